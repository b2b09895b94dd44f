import { takeSnapshot } from '../catalog/snapshot.js';
import { EXIT } from '../events.js';
import { runReported } from '../exec/runReported.js';
import { Journal } from '../journal/journal.js';
import { planCreate } from '../plan/planCreate.js';
import { readMigrationState } from '../state/readState.js';
import { structuralChecks } from './check.js';
import type { StepContext, StepResult } from './context.js';

const CREATE_BLOCKERS = new Set(['server-version', 'table', 'key', 'lookup', 'privileges']);

/**
 * Runs the create steps. Each step is its own transaction with lock_timeout and retries; steps the catalog shows
 * as done are skipped, so a re-run after a failure half-way continues and ends in the same state.
 */
export async function runCreate(ctx: StepContext): Promise<StepResult> {
  const { client, cfg, emit } = ctx;
  const snap = await takeSnapshot(client, cfg);
  // only what makes the creation itself impossible stops create; the rest (foreign keys in, key-assigning
  // triggers, leftovers) is reported by check and enforced before the swap
  const blocking = structuralChecks(snap, cfg).filter((i) => i.status === 'fail' && CREATE_BLOCKERS.has(i.id));
  if (blocking.length) {
    for (const i of blocking) emit({ type: 'check', item: i });
    return { ok: false, exitCode: EXIT.checksFailed, summary: `prerequisites not met (${blocking.map((i) => i.title).join(', ')}); nothing was changed. Run partwise check.` };
  }
  const plan = planCreate(snap, cfg);
  if (plan.steps.every((s) => s.done) && (await readMigrationState(client, cfg)).steps.create.state === 'done') {
    // created already and nothing missing: nothing to journal either (a new record would start a new copy)
    for (const step of plan.steps) emit({ type: 'step.skip', step: step.id, title: step.title, reason: 'already done' });
    return { ok: true, exitCode: EXIT.ok, summary: `${cfg.schema}.${cfg.newTable} is in place (0 step(s) run, ${plan.steps.length} already done): nothing to do` };
  }
  const journal = await Journal.open(client, cfg);
  const logId = await journal.start('create', { steps: plan.steps.length });
  let ran = 0;
  for (const step of plan.steps) {
    if (step.done) {
      emit({ type: 'step.skip', step: step.id, title: step.title, reason: 'already done' });
      continue;
    }
    const err = await runReported(client, step, ctx.retry, emit, {
      unchanged: `step "${step.title}" was rolled back; ${ran} step(s) before it are in place and a re-run continues from there`,
      again: 'partwise create',
    });
    if (err) {
      await journal.finish(logId, 'failed', err.message, { failedStep: step.id, ran });
      return { ok: false, exitCode: EXIT.failed, summary: `create failed at "${step.title}": ${err.message}`, data: { error: err } };
    }
    ran++;
  }
  await journal.finish(logId, 'done', undefined, { ran });
  return { ok: true, exitCode: EXIT.ok, summary: `${cfg.schema}.${cfg.newTable} is in place (${ran} step(s) run, ${plan.steps.length - ran} already done)` };
}
