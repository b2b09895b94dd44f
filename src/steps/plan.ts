/**
 * partwise plan: the whole migration from where it stands, as one reviewable script: create's steps, migrate's change
 * capture and replay, the swap and the rollback after it (its reverse). Every section comes from the previews the
 * steps' SQL panes show (src/steps/preview/), built by the functions the steps run, with each step's real
 * lock_timeout (the swap and the rollback run with the shorter one, src/registry/dispatch.ts).
 */
import { takeSnapshot } from '../catalog/snapshot.js';
import type { Snapshot } from '../catalog/types.js';
import { EXIT } from '../events.js';
import type { RetryPolicy } from '../exec/retry.js';
import { stepStatements } from '../exec/runStep.js';
import { Journal } from '../journal/journal.js';
import { planCreate } from '../plan/planCreate.js';
import { viaRootStatements } from '../plan/publications.js';
import { partsScript, statementLines, type PreviewContext, type ScriptPart } from '../plan/script.js';
import type { Plan, Step } from '../plan/types.js';
import { retryFor } from '../registry/dispatch.js';
import { rollback as rollbackStep } from '../registry/steps/rollback.js';
import { swap as swapStep } from '../registry/steps/swap.js';
import { hasControlInBlock, sqlComment } from '../text/safe.js';
import type { StepContext, StepResult } from './context.js';
import { childParts, copyAllDone, indexBuildParts, migrateSetupParts, copyParts, type Deferring } from './preview/setup.js';
import { planSwapNow, rollbackAfterSwapParts, rollbackPreview, swapParts } from './preview/switch.js';
import { isSwapped, swapRecord } from './swap.js';

/** A create step as reviewable SQL: a comment heading with its locks, then the statements runStep sends. */
export function stepScript(step: Step, policy: Pick<RetryPolicy, 'lockTimeoutMs'>): string {
  const head = [sqlComment(`${step.title}${step.done ? '  (already done: skipped)' : ''}`), sqlComment(`  step: ${step.id}`)];
  for (const l of step.locks) head.push(sqlComment(`  lock: ${l.mode} on ${l.on} (${l.why})`));
  head.push(sqlComment(`  ${step.transactional ? 'one transaction, retried with backoff when a lock is not free within lock_timeout' : 'outside a transaction'}`));
  for (const n of step.notes) head.push(sqlComment(`  note: ${n}`));
  return (step.done ? head : [...head, ...statementLines(stepStatements(step, policy))]).join('\n');
}

export function planScript(plan: Plan, policy: Pick<RetryPolicy, 'lockTimeoutMs'>): string {
  const warn = plan.warnings.length ? [['-- Warnings:', ...plan.warnings.map((w) => sqlComment(`  ${w}`))].join('\n')] : [];
  return [...warn, ...plan.steps.map((s) => stepScript(s, policy))].join('\n\n');
}

const titled = (prefix: string, parts: ScriptPart[]): ScriptPart[] => parts.map((p) => ({ ...p, title: `${prefix}: ${p.title}` }));

/** What follows create: migrate's capture and replay, the swap and the rollback after it, as far as they can be planned now. */
export async function laterPhases(p: PreviewContext, snap: Snapshot): Promise<string[]> {
  const { client, cfg } = p;
  const sections: string[] = [];
  const swapPolicy = retryFor(swapStep, cfg, p.retry);
  const rollbackPolicy = retryFor(rollbackStep, cfg, p.retry);
  if (isSwapped(snap)) {
    sections.push(sqlComment('swap: done'));
    sections.push(partsScript(titled('rollback after the swap', await rollbackPreview({ ...p, retry: rollbackPolicy }))));
    return sections;
  }
  try {
    // plan does not know the mode migrate will run with: mode all's own parts are shown as "only with --mode all"
    const deferring: Deferring = (await copyAllDone(p)) ? false : 'if all';
    sections.push(partsScript(titled('migrate', [...(await migrateSetupParts(p, snap, deferring)), ...copyParts(p, snap, null), ...indexBuildParts(p, snap, deferring)])));
  } catch (e) {
    sections.push(sqlComment(`migrate: ${(e as Error).message}`));
  }
  const children = childParts(p, snap);
  if (children.length) sections.push(partsScript(titled('migrate, after the copy', children)));
  if (!snap.target) {
    sections.push('-- swap: its SQL depends on what create built; run partwise plan again after create to review it');
    const viaRoot = snap.source ? viaRootStatements(snap.source, cfg) : null;
    if (viaRoot?.forward.length)
      sections.push(partsScript([{ title: 'swap: among its statements, for the publications of the table (--publish-via-root)', statements: viaRoot.forward, locks: [], notes: viaRoot.notes }]));
    return sections;
  }
  try {
    const plan = await planSwapNow(client, snap, cfg);
    sections.push(partsScript(titled('swap', swapParts(snap, cfg, swapPolicy, plan))));
    const journal = await Journal.find(client, cfg);
    sections.push(journal
      ? partsScript(titled('rollback after the swap (the reverse the swap journals)', rollbackAfterSwapParts(snap, cfg, rollbackPolicy, swapRecord(snap, cfg, plan), journal.migrationId, snap.source!)))
      : sqlComment('rollback after the swap: the exact reverse the swap journals (no journal yet: run create)'));
  } catch (e) {
    sections.push(sqlComment(`swap: ${(e as Error).message}`));
  }
  return sections;
}

export async function runPlan(ctx: StepContext): Promise<StepResult> {
  const snap = await takeSnapshot(ctx.client, ctx.cfg);
  const plan = planCreate(snap, ctx.cfg);
  const later = await laterPhases({ client: ctx.client, cfg: ctx.cfg, retry: ctx.retry }, snap);
  let script = [planScript(plan, ctx.retry), ...later].join('\n\n') + '\n';
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
