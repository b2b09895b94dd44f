import type pg from 'pg';
import type { Emit } from '../events.js';
import type { Step } from '../plan/types.js';
import { lockedTransaction, retryOnLock, type RetryPolicy } from './retry.js';

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
    await client.query(`SELECT set_config('lock_timeout', $1, false)`, [`${policy.lockTimeoutMs}ms`]);
    await runAll(exec);
  });
}
