import type pg from 'pg';
import type { Emit } from '../events.js';
import { DEADLOCK, LOCK_NOT_AVAILABLE, personError } from './errors.js';
import { backoffDelay, findBlockers, type RetryPolicy } from './runStep.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs fn in one transaction with SET LOCAL lock_timeout; on a lock timeout or deadlock everything of that attempt
 * is rolled back, the blockers are reported (step.retry) and it retries with backoff and jitter. For work that needs
 * query results (runStep only runs statements). After the last attempt the error is thrown and nothing has changed.
 */
export async function lockedTransaction<T>(
  client: pg.ClientBase, policy: RetryPolicy, emit: Emit, step: string, relations: string[], fn: () => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      await client.query('BEGIN');
      await client.query(`SELECT set_config('lock_timeout', $1, true)`, [`${policy.lockTimeoutMs}ms`]);
      const out = await fn();
      await client.query('COMMIT');
      return out;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      const code = (e as { code?: string }).code;
      if ((code !== LOCK_NOT_AVAILABLE && code !== DEADLOCK) || attempt >= policy.attempts) throw e;
      const blockers = await findBlockers(client, relations).catch(() => []);
      const delayMs = backoffDelay(attempt, policy);
      emit({ type: 'step.retry', step, attempt, attempts: policy.attempts, delayMs, blockers, message: personError(e).message });
      await sleep(delayMs);
    }
  }
}
