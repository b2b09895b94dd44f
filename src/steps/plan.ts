import { takeSnapshot } from '../catalog/snapshot.js';
import { EXIT } from '../events.js';
import { planCreate } from '../plan/planCreate.js';
import type { Plan, Step } from '../plan/types.js';
import type { StepContext, StepResult } from './context.js';
import type { Snapshot } from '../catalog/types.js';
import type { Config } from '../config/config.js';
import { captureObjectStatements, captureTriggerStatements } from '../move/capture.js';
import { planSwap } from '../plan/planSwap.js';
import { viaRootStatements } from '../plan/publications.js';
import { hasControlInBlock, sqlComment } from '../text/safe.js';

/** A step as reviewable SQL: a comment heading with its locks, then its statements. */
export function stepScript(step: Step): string {
  const head = [sqlComment(`${step.title}${step.done ? '  (already done)' : ''}`), sqlComment(`  step: ${step.id}`)];
  for (const l of step.locks) head.push(sqlComment(`  lock: ${l.mode} on ${l.on} (${l.why})`));
  head.push(sqlComment(`  ${step.transactional ? 'one transaction, lock_timeout per attempt' : 'outside a transaction'}`));
  for (const n of step.notes) head.push(sqlComment(`  note: ${n}`));
  const body = step.statements.map((s) => `${s};`);
  const setup = [`SET LOCAL lock_timeout = '<--lock-timeout>';`, `SET LOCAL search_path = pg_catalog, pg_temp;`];
  return step.transactional ? [...head, 'BEGIN;', ...setup, ...body, 'COMMIT;'].join('\n') : [...head, ...body].join('\n');
}

export function planScript(plan: Plan): string {
  const warn = plan.warnings.length ? [['-- Warnings:', ...plan.warnings.map((w) => sqlComment(`  ${w}`))].join('\n')] : [];
  return [...warn, ...plan.steps.map(stepScript)].join('\n\n') + '\n';
}

/** A later phase's SQL as a script section: what migrate installs, and the swap transaction once create has run. */
function phaseSection(title: string, lines: string[], statements: string[], transactional: boolean): string {
  const head = [sqlComment(title), ...lines.map((l) => sqlComment(`  ${l}`))];
  const body = statements.map((s) => `${s};`);
  return (transactional ? [...head, 'BEGIN;', ...body, 'COMMIT;'] : [...head, ...body]).join('\n');
}

export function laterPhases(snap: Snapshot, cfg: Config): string[] {
  const sections: string[] = [];
  try {
    sections.push(phaseSection('migrate: change capture, part 1: the change log and its function (no lock on the table)', [
      'step: migrate',
    ], captureObjectStatements(snap, cfg, 'forward'), true));
    sections.push(phaseSection('migrate: change capture, part 2: the triggers, installed before the first row is copied', [
      'the lock comes first, before the transaction has an xid (src/move/copy.ts, "Speed"); then batches of INSERT ... SELECT',
      'by heap block range, each committed with its checkpoint, and replays of the change log between batches',
      '(see README "Why the copy is correct")',
    ], captureTriggerStatements(cfg, 'forward'), true));
  } catch (e) {
    sections.push(sqlComment(`migrate: ${(e as Error).message}`));
  }
  if (!snap.target) {
    sections.push('-- swap: its SQL depends on what create built; run partwise plan again after create to review it');
    const viaRoot = snap.source ? viaRootStatements(snap.source, cfg) : null;
    if (viaRoot?.forward.length)
      sections.push(phaseSection('swap: among its statements, for the publications of the table (--publish-via-root)', viaRoot.notes.map((n) => `note: ${n}`), viaRoot.forward, false));
    return sections;
  }
  try {
    const swap = planSwap(snap, cfg);
    sections.push(phaseSection('swap: one transaction, after the final replay of the change log under an EXCLUSIVE lock', [
      ...swap.locks.map((l) => `lock: ${l.mode} on ${l.on} (${l.why})`),
      ...swap.notes.map((n) => `note: ${n}`),
    ], swap.statements, true));
    sections.push(phaseSection('rollback after the swap: the exact reverse (after the reverse replay)', [], swap.reverse, true));
  } catch (e) {
    sections.push(sqlComment(`swap: ${(e as Error).message}`));
  }
  return sections;
}

export async function runPlan(ctx: StepContext): Promise<StepResult> {
  const snap = await takeSnapshot(ctx.client, ctx.cfg);
  const plan = planCreate(snap, ctx.cfg);
  let script = [planScript(plan), ...laterPhases(snap, ctx.cfg)].join('\n\n') + '\n';
  if (hasControlInBlock(script)) {
    // a name, or an expression the server printed, holds a control character: the script shows it escaped
    script = `-- note: names or expressions below hold control characters, shown escaped (ESC as \\x1b); the statements\n` +
      `-- partwise runs hold the characters themselves\n\n${script}`;
  }
  return {
    ok: true,
    exitCode: EXIT.ok,
    summary: `${plan.steps.length} create step(s), ${plan.steps.filter((s) => s.done).length} already done`,
    data: { script, steps: plan.steps, warnings: plan.warnings },
  };
}
