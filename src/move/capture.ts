/**
 * Change capture: a change-log table filled by a trigger on the table the application writes, replayed into the
 * other table (postgres-facts 16). Never a direct-apply trigger: that resurrects rows deleted while a copy batch
 * was in flight.
 *
 * The trigger only appends the row's primary key (OLD and, when it changed, NEW) to partwise.<log>; it is
 * SECURITY DEFINER with a fixed search_path and depends on nothing of partwise's own session, so the application's
 * writes keep working if partwise dies. Replay takes a batch of log rows and, in one transaction, deletes those
 * keys from the target and re-inserts the source's current rows for them. See "Why the copy is correct" in copy.ts.
 *
 * What the snapshot must show (takeSnapshot):
 * - forward (before the swap): snap.source = the original table (pk and columns), snap.target = the partitioned copy.
 * - reverse (after the swap): snap.old = the original, renamed (pk and columns), snap.source = the partitioned table
 *   now named cfg.table. A snapshot taken before the swap also works for installing reverse capture (the pk then
 *   comes from snap.source, the same table).
 */
import type pg from 'pg';
import type { Config } from '../config/config.js';
import type { Snapshot } from '../catalog/types.js';
import { ident, lit } from '../db/quote.js';
import { captureNames, copiedColumns, originalTable, requireKeyColumns, type Direction } from './captureNames.js';
import { withTransaction } from '../exec/transaction.js';

export type { Direction } from './captureNames.js';
export { captureNames } from './captureNames.js';

/** A dollar-quote tag that does not occur in the body (names are user input). */
function dollarQuote(body: string): string {
  let tag = '$partwise$';
  for (let i = 0; body.includes(tag); i++) tag = `$partwise${i}$`;
  return `${tag}${body}${tag}`;
}

/**
 * The statements that install capture for one direction, for one transaction: the lock on the written table first,
 * then the objects, then the triggers. Pure; idempotent; runnable inside the swap transaction.
 */
export function captureInstallStatements(snap: Snapshot, cfg: Config, direction: Direction): string[] {
  const [lock, ...triggers] = captureTriggerStatements(cfg, direction);
  return [lock!, ...captureObjectStatements(snap, cfg, direction), ...triggers];
}

/** The log table and the trigger function: nothing that locks the written table. Pure; idempotent. */
export function captureObjectStatements(snap: Snapshot, cfg: Config, direction: Direction): string[] {
  const n = captureNames(cfg, direction);
  const keyCols = requireKeyColumns(originalTable(snap, direction));
  const kDefs = keyCols.map((c, i) => `k${i + 1} ${c.type}`).join(', ');
  const kList = keyCols.map((_, i) => `k${i + 1}`).join(', ');
  const rec = (r: 'NEW' | 'OLD') => keyCols.map((c) => `${r}.${ident(c.name)}`).join(', ');
  // ROW(...) so that a composite key compares as a whole
  const changed = `ROW(${rec('NEW')}) IS DISTINCT FROM ROW(${rec('OLD')})`;
  const body = `
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    INSERT INTO ${n.logQ} (op) VALUES ('T');
  ELSIF TG_OP = 'INSERT' THEN
    INSERT INTO ${n.logQ} (op, ${kList}) VALUES ('I', ${rec('NEW')});
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO ${n.logQ} (op, ${kList}) VALUES ('D', ${rec('OLD')});
  ELSE
    INSERT INTO ${n.logQ} (op, ${kList}) VALUES ('U', ${rec('OLD')});
    IF ${changed} THEN
      INSERT INTO ${n.logQ} (op, ${kList}) VALUES ('U', ${rec('NEW')});
    END IF;
  END IF;
  RETURN NULL;
END
`;
  return [
    `CREATE SCHEMA IF NOT EXISTS partwise`,
    `CREATE TABLE IF NOT EXISTS ${n.logQ} (seq bigserial PRIMARY KEY, op "char" NOT NULL, ${kDefs}, txid bigint NOT NULL DEFAULT txid_current(), logged_at timestamptz NOT NULL DEFAULT now())`,
    `REVOKE ALL ON TABLE ${n.logQ} FROM PUBLIC`,
    `COMMENT ON TABLE ${n.logQ} IS ${lit(`partwise change capture (${direction}): keys of rows written to ${cfg.schema}.${cfg.table}, replayed into ${direction === 'forward' ? cfg.newTable : cfg.oldTable}`)}`,
    `CREATE OR REPLACE FUNCTION ${n.fnQ}() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS ${dollarQuote(body)}`,
    `REVOKE ALL ON FUNCTION ${n.fnQ}() FROM PUBLIC`,
  ];
}

/**
 * The triggers, for a transaction of their own after captureObjectStatements: short, since it holds the lock that
 * stops the application's writes. The lock comes first, before anything gives the transaction its xid: the copy
 * relies on it (src/move/copy.ts, "Speed"): a transaction that got its xid after the install's cannot have written
 * the table before the triggers existed. (Run inside a transaction that already has an xid, as rollback does after
 * the swap, the install still captures every later write; only the copy's horizon would be off, and no copy follows.)
 */
export function captureTriggerStatements(cfg: Config, direction: Direction): string[] {
  const n = captureNames(cfg, direction);
  return [
    `LOCK TABLE ${n.on} IN SHARE ROW EXCLUSIVE MODE`,
    `DROP TRIGGER IF EXISTS ${ident(n.rowTrigger)} ON ${n.on}`,
    `CREATE TRIGGER ${ident(n.rowTrigger)} AFTER INSERT OR UPDATE OR DELETE ON ${n.on} FOR EACH ROW EXECUTE FUNCTION ${n.fnQ}()`,
    `DROP TRIGGER IF EXISTS ${ident(n.truncateTrigger)} ON ${n.on}`,
    `CREATE TRIGGER ${ident(n.truncateTrigger)} AFTER TRUNCATE ON ${n.on} FOR EACH STATEMENT EXECUTE FUNCTION ${n.fnQ}()`,
    // also for sessions with session_replication_role = replica (logical replication's apply, restores): their
    // writes are the table's writes too
    `ALTER TABLE ${n.on} ENABLE ALWAYS TRIGGER ${ident(n.rowTrigger)}`,
    `ALTER TABLE ${n.on} ENABLE ALWAYS TRIGGER ${ident(n.truncateTrigger)}`,
  ];
}

/**
 * Removes one direction's capture: its triggers wherever they are now (found by function, so renames do not matter;
 * clones on partitions go with their parent's trigger), the function and the log table. Pure; idempotent.
 */
export function captureRemovalStatements(cfg: Config, direction: Direction): string[] {
  const n = captureNames(cfg, direction);
  const body = `
DECLARE r record;
BEGIN
  FOR r IN SELECT t.tgname, ns.nspname, c.relname
             FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
             JOIN pg_catalog.pg_namespace ns ON ns.oid = c.relnamespace
            WHERE t.tgfoid = pg_catalog.to_regprocedure(${lit(`${n.fnQ}()`)}) AND t.tgparentid = 0 LOOP
    EXECUTE pg_catalog.format('DROP TRIGGER %I ON %I.%I', r.tgname, r.nspname, r.relname);
  END LOOP;
END
`;
  return [`DO ${dollarQuote(body)}`, `DROP FUNCTION IF EXISTS ${n.fnQ}()`, `DROP TABLE IF EXISTS ${n.logQ}`];
}

/** Whether this direction's row trigger is installed on the table the application writes. */
export async function captureInstalled(client: pg.ClientBase, cfg: Config, direction: Direction): Promise<boolean> {
  const n = captureNames(cfg, direction);
  const r = await client.query(
    `SELECT 1 FROM pg_trigger t WHERE t.tgrelid = to_regclass($1) AND t.tgname = $2 AND t.tgfoid = to_regprocedure($3)`,
    [n.on, n.rowTrigger, `${n.fnQ}()`],
  );
  return (r.rowCount ?? 0) > 0;
}

/** Entries not yet replayed. */
export async function captureBacklog(client: pg.ClientBase, cfg: Config, direction: Direction): Promise<number> {
  const n = captureNames(cfg, direction);
  const exists = await client.query(`SELECT to_regclass($1) IS NOT NULL AS ok`, [n.logQ]);
  if (!exists.rows[0].ok) return 0;
  const r = await client.query(`SELECT count(*)::bigint AS n FROM ${n.logQ}`);
  return Number(r.rows[0].n);
}

/**
 * Serializes everything that writes the target of one direction: copy batches and replays (from any process).
 * Replay must start after a batch that might have copied a stale row version has committed; this lock makes that
 * true across processes. Transaction-scoped; obeys lock_timeout. The swap should take it before its table locks.
 */
export async function lockCapture(client: pg.ClientBase, cfg: Config, direction: Direction): Promise<void> {
  await client.query(`SELECT pg_advisory_xact_lock(hashtext('partwise capture'), hashtext($1))`, [`${direction} ${cfg.schema}.${cfg.table}`]);
}

/** `(cols) IN (SELECT * FROM unnest($1::text[]::t1[], ...))`: keys passed back as text arrays, cast to their types. */
function keyMatch(alias: string, cols: Array<{ name: string; type: string }>): string {
  const left = cols.map((c) => `${alias}.${ident(c.name)}`).join(', ');
  const arrays = cols.map((c, i) => `$${i + 1}::text[]::${c.type}[]`).join(', ');
  return `(${left}) IN (SELECT * FROM unnest(${arrays}))`;
}

/**
 * Applies up to `limit` (default: all) log entries. The caller holds the transaction (and the locks it wants).
 * Returns how many entries were applied.
 */
export async function replayInTransaction(client: pg.ClientBase, snap: Snapshot, cfg: Config, direction: Direction, limit?: number): Promise<number> {
  const n = captureNames(cfg, direction);
  await lockCapture(client, cfg, direction);
  const keyCols = requireKeyColumns(originalTable(snap, direction));
  const ks = keyCols.map((_, i) => `k${i + 1}`);
  const pick = `SELECT seq FROM ${n.logQ} ORDER BY seq${limit ? ` LIMIT ${Math.max(1, Math.floor(limit))}` : ''} FOR UPDATE SKIP LOCKED`;
  const taken = await client.query<Record<string, string | null>>(
    `DELETE FROM ${n.logQ} WHERE seq IN (${pick}) RETURNING op::text AS op, ${ks.map((k) => `${k}::text AS ${k}`).join(', ')}`,
  );
  if (taken.rows.length === 0) return 0;

  if (taken.rows.some((r) => r.op === 'T')) {
    // the source was truncated: everything copied so far is gone; entries after the marker re-insert what came since
    if (direction === 'forward') {
      await client.query(`TRUNCATE ${n.into}`);
      await resetCopyCheckpoints(client, cfg);
    } else {
      // the old table may still be referenced or read: an MVCC-safe delete
      await client.query(`DELETE FROM ${n.into}`);
    }
  }
  const seen = new Set<string>();
  const columns: string[][] = ks.map(() => []);
  for (const r of taken.rows) {
    if (r.op === 'T') continue;
    const vals = ks.map((k) => r[k]!);
    const id = JSON.stringify(vals);
    if (seen.has(id)) continue;
    seen.add(id);
    vals.forEach((v, i) => columns[i]!.push(v));
  }
  if (seen.size > 0) {
    const cols = copiedColumns(snap, direction).map((c) => ident(c.name)).join(', ');
    const from = direction === 'forward' ? `ONLY ${n.on}` : n.on;
    await client.query(`DELETE FROM ${n.into} t WHERE ${keyMatch('t', keyCols)}`, columns);
    // by the original's key only: an update that moved the row to another program is handled too.
    // Rows with a NULL partition key cannot exist in the partitioned table; verify --data reports them.
    await client.query(
      `INSERT INTO ${n.into} (${cols}) OVERRIDING SYSTEM VALUE SELECT ${cols} FROM ${from} s WHERE ${keyMatch('s', keyCols)}` +
        (direction === 'forward' ? ` AND s.${ident(cfg.key)} IS NOT NULL` : ''),
      columns,
    );
  }
  return taken.rows.length;
}

/** One replay batch in its own transaction. */
export function replayBatch(client: pg.ClientBase, snap: Snapshot, cfg: Config, direction: Direction, limit: number): Promise<number> {
  return withTransaction(client, { lazyCommit: true }, () => replayInTransaction(client, snap, cfg, direction, limit));
}

/**
 * Replays batches of `limit` entries, each in its own transaction, until one comes back short, `maxRounds` have run
 * or `signal` aborts; how many entries it applied.
 */
export async function drainLog(
  client: pg.ClientBase, snap: Snapshot, cfg: Config, direction: Direction, opts: { limit: number; maxRounds: number; signal?: AbortSignal },
): Promise<number> {
  let total = 0;
  for (let i = 0; i < opts.maxRounds; i++) {
    const n = await replayBatch(client, snap, cfg, direction, opts.limit);
    total += n;
    if (n < opts.limit || opts.signal?.aborted) break;
  }
  return total;
}

/** After a TRUNCATE of the source the copy starts over (and its counts with it). */
export async function resetCopyCheckpoints(client: pg.ClientBase, cfg: Config): Promise<void> {
  const r = await client.query(`SELECT to_regclass('partwise.copy_checkpoint') IS NOT NULL AS ok`);
  if (!r.rows[0].ok) return;
  const where = `migration_id IN (SELECT id FROM partwise.migration WHERE source_schema = $1 AND source_table = $2)`;
  await client.query(`DELETE FROM partwise.copy_checkpoint WHERE ${where}`, [cfg.schema, cfg.table]);
  await client.query(`DELETE FROM partwise.copy_progress WHERE ${where}`, [cfg.schema, cfg.table]);
}
