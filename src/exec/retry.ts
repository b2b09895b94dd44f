/**
 * The one retry policy for work that waits for locks the application also holds: each attempt waits at most
 * lock_timeout; a lock timeout or deadlock rolls the attempt back, reports who holds the locks (step.retry), waits
 * with backoff and jitter and tries again. After the last attempt nothing of the work has changed.
 */
import type pg from 'pg';
import type { Blocker } from '../catalog/types.js';
import type { Emit, PersonError } from '../events.js';
import { DEADLOCK, LOCK_NOT_AVAILABLE, personError } from './errors.js';
import { CATALOG_SEARCH_PATH, openingStatements, withTransaction, type TransactionOptions } from './transaction.js';

export interface RetryPolicy {
  lockTimeoutMs: number;
  attempts: number;
  /** first backoff, doubled each attempt up to maxDelayMs, with ±50 % jitter */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { lockTimeoutMs: 1500, attempts: 10, baseDelayMs: 250, maxDelayMs: 8000 };

export function backoffDelay(attempt: number, p: RetryPolicy, random: () => number = Math.random): number {
  const base = Math.min(p.baseDelayMs * 2 ** (attempt - 1), p.maxDelayMs);
  return Math.round(base * (0.5 + random()));
}

/** Who holds a lock on these relations: reported when work has to wait. */
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
 * Work that failed: the server's error (cause), the statement that raised it, and for lock timeouts and deadlocks
 * the sessions that held the locks at the last attempt. `exhausted`: every attempt ran into a lock.
 */
export class TransactionFailed extends Error {
  constructor(
    readonly cause: unknown,
    readonly statement: string | undefined,
    readonly blockers: Blocker[],
    readonly attempts: number,
    readonly exhausted: boolean,
  ) {
    super(exhausted ? `gave up after ${attempts} attempt(s): ${(cause as Error)?.message ?? String(cause)}` : (cause as Error)?.message ?? String(cause));
    this.name = 'TransactionFailed';
  }
}

/** Runs one statement and remembers it, so that a failure names the statement. */
export type Exec = (sql: string, params?: unknown[]) => Promise<pg.QueryResult>;

export interface RetryTarget {
  policy: RetryPolicy;
  emit: Emit;
  /** the step id step.retry events carry */
  step: string;
  /** the relations whose lock holders are reported */
  relations: string[];
}

function isLockFailure(e: unknown): boolean {
  const code = (e as { code?: string }).code;
  return code === LOCK_NOT_AVAILABLE || code === DEADLOCK;
}

/**
 * Runs attempt until it succeeds, retrying lock timeouts and deadlocks as the policy says. attempt must leave nothing
 * behind when it throws (a transaction, or statements that each stand alone). Throws TransactionFailed.
 */
export async function retryOnLock<T>(client: pg.ClientBase, target: RetryTarget, attempt: (exec: Exec, n: number) => Promise<T>): Promise<T> {
  const { policy, emit } = target;
  for (let n = 1; ; n++) {
    let current: string | undefined;
    const exec: Exec = (sql, params) => {
      current = sql;
      return client.query(sql, params);
    };
    try {
      return await attempt(exec, n);
    } catch (e) {
      if (!isLockFailure(e)) throw new TransactionFailed(e, current, [], n, false);
      const blockers = await findBlockers(client, target.relations).catch(() => [] as Blocker[]);
      if (n >= policy.attempts) throw new TransactionFailed(e, current, blockers, n, true);
      const delayMs = backoffDelay(n, policy);
      emit({ type: 'step.retry', step: target.step, attempt: n, attempts: policy.attempts, delayMs, blockers, message: personError(e).message });
      await new Promise((r) => setTimeout(r, delayMs));
    }
  }
}

/**
 * body in one transaction with SET LOCAL lock_timeout (the policy's) and search_path = pg_catalog (the plans' SQL is
 * printed that way), retried on lock timeouts and deadlocks. `n` is the attempt number. Throws TransactionFailed.
 */
export function lockedTransaction<T>(
  client: pg.ClientBase, target: RetryTarget, body: (exec: Exec, n: number) => Promise<T>, opts: Omit<TransactionOptions, 'settings'> = {},
): Promise<T> {
  return retryOnLock(client, target, (exec, n) => withTransaction(client, lockedOptions(target.policy, opts), () => body(exec, n)));
}

/** lockedTransaction's transaction options: the policy's lock_timeout and the plans' search_path, local to it. */
export function lockedOptions(policy: Pick<RetryPolicy, 'lockTimeoutMs'>, opts: Omit<TransactionOptions, 'settings'> = {}): TransactionOptions {
  return { ...opts, settings: [['lock_timeout', `${policy.lockTimeoutMs}ms`], CATALOG_SEARCH_PATH] };
}

/** What lockedTransaction sends before its body (BEGIN and the SET LOCALs), for the SQL previews. */
export function lockedOpening(policy: Pick<RetryPolicy, 'lockTimeoutMs'>): string[] {
  return openingStatements(lockedOptions(policy));
}

/** A failure of retried work, said for people: who blocked it, or the server's error, what is unchanged, what to do. */
export function transactionFailure(e: unknown, what: string, unchanged: string, retryCommand: string): { message: string; error: PersonError } {
  const f = e instanceof TransactionFailed ? e : undefined;
  if (f?.exhausted) {
    const who = f.blockers.length
      ? f.blockers.map((b) => `pid ${b.pid} (${b.userName ?? '?'}, ${b.applicationName || 'no application_name'}, ${b.state ?? '?'}, holds ${b.modes ?? '?'}): ${b.query ?? ''}`).join('; ')
      : 'no session was holding a lock by the time partwise looked';
    const error = personError(f.cause, {
      statement: f.statement,
      unchanged,
      todo: `wait for the blocking session(s) to finish, or end them (SELECT pg_terminate_backend(pid)), then run ${retryCommand} again; raise --lock-timeout or --lock-retries to wait longer`,
    });
    error.message = `${what}: could not get the locks in ${f.attempts} attempt(s) (lock_timeout each); blocked by ${who}`;
    return { message: error.message, error };
  }
  const error = personError(f?.cause ?? e, { statement: f?.statement, unchanged, todo: `fix the cause, then run ${retryCommand} again` });
  error.message = `${what}: ${error.message}`;
  return { message: error.message, error };
}
