import { takeSnapshot } from '../catalog/snapshot.js';
import { EXIT } from '../events.js';
import { planCreate } from '../plan/planCreate.js';
import type { Plan, Step } from '../plan/types.js';
import type { StepContext, StepResult } from './context.js';

/** A step as reviewable SQL: a comment heading with its locks, then its statements. */
export function stepScript(step: Step): string {
  const head = [`-- ${step.title}${step.done ? '  (already done)' : ''}`, `--   step: ${step.id}`];
  for (const l of step.locks) head.push(`--   lock: ${l.mode} on ${l.on} (${l.why})`);
  head.push(`--   ${step.transactional ? 'one transaction, lock_timeout per attempt' : 'outside a transaction'}`);
  for (const n of step.notes) head.push(`--   note: ${n}`);
  const body = step.statements.map((s) => `${s};`);
  const setup = [`SET LOCAL lock_timeout = '<--lock-timeout>';`, `SET LOCAL search_path = pg_catalog, pg_temp;`];
  return step.transactional ? [...head, 'BEGIN;', ...setup, ...body, 'COMMIT;'].join('\n') : [...head, ...body].join('\n');
}

export function planScript(plan: Plan): string {
  const warn = plan.warnings.length ? [['-- Warnings:', ...plan.warnings.map((w) => `--   ${w}`)].join('\n')] : [];
  return [...warn, ...plan.steps.map(stepScript)].join('\n\n') + '\n';
}

export async function runPlan(ctx: StepContext): Promise<StepResult> {
  const snap = await takeSnapshot(ctx.client, ctx.cfg);
  const plan = planCreate(snap, ctx.cfg);
  return {
    ok: true,
    exitCode: EXIT.ok,
    summary: `${plan.steps.length} step(s), ${plan.steps.filter((s) => s.done).length} already done`,
    data: { script: planScript(plan), steps: plan.steps, warnings: plan.warnings },
  };
}
