/**
 * The one place partwise opens, commits and rolls back a transaction. Every multi-statement unit of work runs through
 * withTransaction; units that take locks the application also wants run through lockedTransaction (src/exec/retry.ts),
 * which adds lock_timeout and the retry policy.
 */
import type pg from 'pg';
import { ident, lit } from '../db/quote.js';
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

/** Settings whose value is a list of names (written unquoted-as-a-whole: a single literal would be one name). */
const LIST_SETTINGS = new Set(['search_path']);

/**
 * `SET [LOCAL] name = value` as partwise sends it and shows it: the value a literal, a list setting's elements each an
 * identifier. Names are partwise's own constants.
 */
export function setStatement(name: string, value: string, local: boolean): string {
  if (!/^[a-z_]+$/.test(name)) throw new Error(`not a setting name: ${name}`);
  const v = LIST_SETTINGS.has(name) ? value.split(',').map((x) => ident(x.trim())).join(', ') : lit(value);
  return `SET ${local ? 'LOCAL ' : ''}${name} = ${v}`;
}

/**
 * What withTransaction sends before fn runs: BEGIN, then one SET LOCAL per setting. The SQL previews print the same
 * list (src/plan/script.ts), so what is shown is what runs.
 */
export function openingStatements(opts: TransactionOptions): string[] {
  const settings = [...(opts.settings ?? []), ...(opts.lazyCommit ? [LAZY_COMMIT] : [])];
  return [beginStatement(opts), ...settings.map(([name, value]) => setStatement(name, value, true))];
}

/** What ends a transaction that succeeded. */
export function closingStatement(opts: TransactionOptions): string {
  return opts.alwaysRollback ? 'ROLLBACK' : 'COMMIT';
}

/**
 * Runs fn in one transaction on client: BEGIN, the SET LOCAL settings (openingStatements), fn, COMMIT (ROLLBACK with alwaysRollback). Any
 * error rolls back and is rethrown as it came, so callers still see the server's code.
 */
export async function withTransaction<T>(client: pg.ClientBase, opts: TransactionOptions, fn: () => Promise<T>): Promise<T> {
  const [begin, ...settings] = openingStatements(opts);
  await client.query(begin!);
  try {
    for (const s of settings) await client.query(s);
    const out = await fn();
    await client.query(closingStatement(opts));
    return out;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}
