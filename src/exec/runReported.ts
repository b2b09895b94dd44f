import type pg from 'pg';
import type { Emit, PersonError } from '../events.js';
import type { Step } from '../plan/types.js';
import { personError } from './errors.js';
import { TransactionFailed, type RetryPolicy } from './retry.js';
import { runStep } from './runStep.js';

export interface FailureWords {
  /** what the failure left unchanged */
  unchanged: string;
  /** the command that continues after the cause is fixed, e.g. `partwise create` */
  again: string;
  /** what to fix when no lock was the cause */
  fix?: string;
}

/**
 * Runs one step and tells the faces about it: step.start, then step.done or step.fail with the failed statement,
 * the server's message and hint, who held the locks, what was left unchanged and what to do. Returns the error for
 * the journal, or null when the step succeeded.
 */
export async function runReported(client: pg.ClientBase, step: Step, policy: RetryPolicy, emit: Emit, words: FailureWords): Promise<PersonError | null> {
  emit({ type: 'step.start', step: step.id, title: step.title, statements: step.statements, locks: step.locks });
  const t0 = Date.now();
  try {
    await runStep(client, step, policy, emit);
  } catch (e) {
    const f = e instanceof TransactionFailed ? e : undefined;
    const blockers = f?.blockers ?? [];
    const err = personError(f?.cause ?? e, {
      statement: f?.statement,
      unchanged: words.unchanged,
      todo: blockers.length
        ? `sessions ${blockers.map((b) => `${b.pid} (${b.query ?? ''})`).join(', ')} hold locks; wait for them or end them, then run ${words.again} again`
        : `${words.fix ?? 'fix the cause'}, then run ${words.again} again`,
    });
    if (blockers.length) err.message += ` (blocked by ${blockers.map((b) => `pid ${b.pid}: ${b.query ?? ''}`).join('; ')})`;
    emit({ type: 'step.fail', step: step.id, title: step.title, error: err });
    return err;
  }
  emit({ type: 'step.done', step: step.id, title: step.title, ms: Date.now() - t0 });
  return null;
}
