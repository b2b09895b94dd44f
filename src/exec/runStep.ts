import type pg from 'pg';
import type { Blocker } from '../catalog/types.js';
import type { Emit } from '../events.js';
import type { Step } from '../plan/types.js';
import { DEADLOCK, LOCK_NOT_AVAILABLE, personError } from './errors.js';

export interface RetryPolicy {
  lockTimeoutMs: number;
  attempts: number;
  /** first backoff, doubled each attempt up to maxDelayMs, with ±50 % jitter */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { lockTimeoutMs: 1500, attempts: 10, baseDelayMs: 250, maxDelayMs: 8000 };

export class StepFailed extends Error {
  constructor(
    readonly step: Step,
    readonly cause: unknown,
    readonly statement: string | undefined,
    readonly blockers: Blocker[],
  ) {
    super(`step ${step.id} failed: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'StepFailed';
  }
}

export function backoffDelay(attempt: number, p: RetryPolicy, random: () => number = Math.random): number {
  const base = Math.min(p.baseDelayMs * 2 ** (attempt - 1), p.maxDelayMs);
  return Math.round(base * (0.5 + random()));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Who holds a lock on the relations a step locks: reported when the step has to wait. */
export async function findBlockers(client: pg.ClientBase, relations: string[]): Promise<Blocker[]> {
  if (relations.length === 0) return [];
  const r = await client.query(
    `SELECT a.pid, a.usename AS user_name, a.application_name, a.state,
            EXTRACT(EPOCH FROM now() - a.xact_start)::float8 AS xact_seconds, left(a.query, 200) AS query,
            string_agg(DISTINCT l.mode, ', ') AS modes
       FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.granted AND l.pid <> pg_backend_pid()
        AND l.relation IN (SELECT to_regclass(x) FROM unnest($1::text[]) x)
      GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 5 DESC NULLS LAST`,
    [relations],
  );
  return r.rows.map((x) => ({
    pid: x.pid, userName: x.user_name, applicationName: x.application_name, state: x.state,
    xactSeconds: x.xact_seconds, query: x.query, modes: x.modes,
  }));
}

/**
 * Runs one step. Transactional steps run in one transaction with SET LOCAL lock_timeout; a lock timeout or
 * deadlock rolls back everything of that attempt, reports who blocks, waits with backoff and jitter and retries.
 * After the last attempt nothing of the step has changed.
 */
export async function runStep(client: pg.ClientBase, step: Step, policy: RetryPolicy, emit: Emit): Promise<void> {
  let lastBlockers: Blocker[] = [];
  for (let attempt = 1; attempt <= policy.attempts; attempt++) {
    let current: string | undefined;
    try {
      if (step.transactional) {
        await client.query('BEGIN');
        // the plan's SQL was printed with search_path = pg_catalog (every other name qualified): run it the same way
        await client.query(`SELECT set_config('lock_timeout', $1, true), set_config('search_path', 'pg_catalog, pg_temp', true)`, [`${policy.lockTimeoutMs}ms`]);
        for (const s of step.statements) {
          current = s;
          await client.query(s);
        }
        await client.query('COMMIT');
      } else {
        await client.query(`SELECT set_config('lock_timeout', $1, false)`, [`${policy.lockTimeoutMs}ms`]);
        for (const s of step.statements) {
          current = s;
          await client.query(s);
        }
      }
      return;
    } catch (e) {
      if (step.transactional) await client.query('ROLLBACK').catch(() => undefined);
      const code = (e as { code?: string }).code;
      const retryable = code === LOCK_NOT_AVAILABLE || code === DEADLOCK;
      if (!retryable) throw new StepFailed(step, e, current, []);
      lastBlockers = await findBlockers(client, step.locks.map((l) => l.on)).catch(() => []);
      if (attempt === policy.attempts) throw new StepFailed(step, e, current, lastBlockers);
      const delayMs = backoffDelay(attempt, policy);
      emit({
        type: 'step.retry', step: step.id, attempt, attempts: policy.attempts, delayMs, blockers: lastBlockers,
        message: personError(e).message,
      });
      await sleep(delayMs);
    }
  }
}
