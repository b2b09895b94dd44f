import type pg from 'pg';
import type { Emit } from '../events.js';
import type { Step } from '../plan/types.js';
import { lockedOpening, lockedTransaction, retryOnLock, type RetryPolicy } from './retry.js';
import { setStatement } from './transaction.js';
import { notePart, type ScriptPart } from '../plan/script.js';

export { DEFAULT_RETRY, TransactionFailed, type RetryPolicy } from './retry.js';

/**
 * Runs one planned step under the retry policy (src/exec/retry.ts): transactional steps in one transaction, the
 * others (CONCURRENTLY) statement by statement with a session lock_timeout. Throws TransactionFailed; after a failed
 * transactional step nothing of it has changed.
 */
export async function runStep(client: pg.ClientBase, step: Step, policy: RetryPolicy, emit: Emit): Promise<void> {
  const target = { policy, emit, step: step.id, relations: step.locks.map((l) => l.on) };
  const runAll = async (exec: (sql: string) => Promise<unknown>) => {
    for (const s of step.statements) await exec(s);
  };
  if (step.transactional) return lockedTransaction(client, target, runAll);
  return retryOnLock(client, target, async (exec) => {
    await client.query(sessionLockTimeout(policy));
    await runAll(exec);
  });
}

/** runStep, announced to the faces: step.start before, step.done with its time after; a failure is thrown as is. */
export async function runAnnounced(client: pg.ClientBase, step: Step, policy: RetryPolicy, emit: Emit): Promise<void> {
  emit({ type: 'step.start', step: step.id, title: step.title, statements: step.statements, locks: step.locks });
  const t0 = Date.now();
  await runStep(client, step, policy, emit);
  emit({ type: 'step.done', step: step.id, title: step.title, ms: Date.now() - t0 });
}

/** A step outside a transaction (CONCURRENTLY) waits for each lock at most this long: a session setting. */
function sessionLockTimeout(policy: Pick<RetryPolicy, 'lockTimeoutMs'>): string {
  return setStatement('lock_timeout', `${policy.lockTimeoutMs}ms`, false);
}

/**
 * Exactly what runStep sends for the step (its first attempt; a lock timeout rolls back and sends it again): the
 * SQL previews print this list.
 */
export function stepStatements(step: Step, policy: Pick<RetryPolicy, 'lockTimeoutMs'>): string[] {
  if (step.transactional) return [...lockedOpening(policy), ...step.statements, 'COMMIT'];
  return [sessionLockTimeout(policy), ...step.statements];
}

/** A planned step as a preview part: what runStep sends, or a note when the catalog shows it done (create skips it). */
export function stepPart(step: Step, policy: Pick<RetryPolicy, 'lockTimeoutMs'>): ScriptPart {
  if (step.done) return notePart(`${step.title}  (already done: skipped)`);
  return { title: step.title, statements: stepStatements(step, policy), locks: step.locks, notes: step.notes };
}
