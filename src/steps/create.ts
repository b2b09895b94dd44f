import { takeSnapshot } from '../catalog/snapshot.js';
import { EXIT } from '../events.js';
import { personError } from '../exec/errors.js';
import { runStep, StepFailed } from '../exec/runStep.js';
import { Journal } from '../journal/journal.js';
import { planCreate } from '../plan/planCreate.js';
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
  const journal = await Journal.open(client, cfg);
  const logId = await journal.start('create', { steps: plan.steps.length });
  let ran = 0;
  for (const step of plan.steps) {
    if (step.done) {
      emit({ type: 'step.skip', step: step.id, title: step.title, reason: 'already done' });
      continue;
    }
    emit({ type: 'step.start', step: step.id, title: step.title, statements: step.statements, locks: step.locks });
    const t0 = Date.now();
    try {
      await runStep(client, step, ctx.retry, emit);
    } catch (e) {
      const f = e instanceof StepFailed ? e : undefined;
      const err = personError(f?.cause ?? e, {
        statement: f?.statement,
        unchanged: `step "${step.title}" was rolled back; ${ran} step(s) before it are in place`,
        todo: f?.blockers.length
          ? `sessions ${f.blockers.map((b) => b.pid).join(', ')} hold locks; wait for them or end them, then run partwise create again (it continues where it stopped)`
          : 'fix the cause, then run partwise create again (it continues where it stopped)',
      });
      if (f?.blockers.length) err.message += ` (blocked by ${f.blockers.map((b) => `pid ${b.pid}: ${b.query ?? ''}`).join('; ')})`;
      emit({ type: 'step.fail', step: step.id, title: step.title, error: err });
      await journal.finish(logId, 'failed', err.message, { failedStep: step.id, ran });
      return { ok: false, exitCode: EXIT.failed, summary: `create failed at "${step.title}": ${err.message}`, data: { error: err } };
    }
    ran++;
    emit({ type: 'step.done', step: step.id, title: step.title, ms: Date.now() - t0 });
  }
  await journal.finish(logId, 'done', undefined, { ran });
  await journal.setPhase('create');
  return { ok: true, exitCode: EXIT.ok, summary: `${cfg.schema}.${cfg.newTable} is in place (${ran} step(s) run, ${plan.steps.length - ran} already done)` };
}
