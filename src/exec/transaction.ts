/**
 * The one place partwise opens, commits and rolls back a transaction. Every multi-statement unit of work runs through
 * withTransaction; units that take locks the application also wants run through lockedTransaction (src/exec/retry.ts),
 * which adds lock_timeout and the retry policy.
 */
import type pg from 'pg';
import { LAZY_COMMIT } from './lazyCommit.js';

export interface TransactionOptions {
  /** BEGIN's access mode */
  readOnly?: boolean;
  /** BEGIN's isolation level (default: the server's, READ COMMITTED) */
  isolation?: 'repeatable read';
  /** SET LOCAL settings, applied in order before fn runs (e.g. lock_timeout, search_path, statement_timeout) */
  settings?: Array<[name: string, value: string]>;
  /** commit without waiting for the WAL flush (src/exec/lazyCommit.ts): copy batches and replays only */
  lazyCommit?: boolean;
  /** roll back even when fn succeeds: probes whose effects must never stay (smoke check, EXPLAIN ANALYZE) */
  alwaysRollback?: boolean;
}

/** search_path for SQL the plans print with every other name qualified: run it the way it was printed. */
export const CATALOG_SEARCH_PATH: [string, string] = ['search_path', 'pg_catalog, pg_temp'];

function beginStatement(opts: TransactionOptions): string {
  const modes = [opts.isolation === 'repeatable read' ? 'ISOLATION LEVEL REPEATABLE READ' : '', opts.readOnly ? 'READ ONLY' : ''].filter(Boolean);
  return modes.length ? `BEGIN ${modes.join(' ')}` : 'BEGIN';
}

/**
 * Runs fn in one transaction on client: BEGIN, the SET LOCAL settings, fn, COMMIT (ROLLBACK with alwaysRollback). Any
 * error rolls back and is rethrown as it came, so callers still see the server's code.
 */
export async function withTransaction<T>(client: pg.ClientBase, opts: TransactionOptions, fn: () => Promise<T>): Promise<T> {
  await client.query(beginStatement(opts));
  try {
    const settings = [...(opts.settings ?? []), ...(opts.lazyCommit ? [LAZY_COMMIT] : [])];
    if (settings.length) {
      await client.query(`SELECT ${settings.map((_, i) => `set_config($${2 * i + 1}, $${2 * i + 2}, true)`).join(', ')}`, settings.flat());
    }
    const out = await fn();
    await client.query(opts.alwaysRollback ? 'ROLLBACK' : 'COMMIT');
    return out;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}
