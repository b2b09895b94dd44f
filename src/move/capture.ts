/**
 * Change capture: a change-log table filled by a trigger on the table the application writes, replayed into the
 * other table (docs/behaviours/batched-copy-resurrects-deletes.md). Never a direct-apply trigger: that resurrects
 * rows deleted while a copy batch was in flight.
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
import type { Step } from '../plan/types.js';
import { captureNames, copiedColumns, originalTable, requireKeyColumns, type Direction } from './captureNames.js';
import { closingStatement, openingStatements, withTransaction } from '../exec/transaction.js';
import { only, type ScriptStatement } from '../plan/script.js';

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
    recordBaselineStatement(cfg, direction),
  ];
}

/** captureTriggerStatements as one step: a short transaction, retried on lock timeouts. */
export function captureTriggerStep(cfg: Config, direction: Direction): Step {
  return {
    id: direction === 'forward' ? 'capture-install' : 'capture-install-reverse', phase: direction === 'forward' ? 'migrate' : 'rollback',
    title: `Install ${direction === 'forward' ? '' : 'reverse '}change capture on ${cfg.schema}.${cfg.table}`,
    statements: captureTriggerStatements(cfg, direction),
    locks: [{ mode: 'SHARE ROW EXCLUSIVE', on: captureNames(cfg, direction).on, why: 'creating triggers; blocks writes for a moment' }],
    transactional: true, reverse: [], done: false, notes: [],
  };
}

/**
 * Migrate's set-up, as two steps: the log table and function first (no lock on the table), then the triggers alone,
 * so that the lock that stops the application's writes is held only for the triggers' creation.
 */
export function captureSetupSteps(snap: Snapshot, cfg: Config): Step[] {
  return [
    {
      id: 'capture-prepare', phase: 'migrate', title: `Create the change log and its function for ${cfg.schema}.${cfg.table}`,
      statements: captureObjectStatements(snap, cfg, 'forward'), locks: [], transactional: true, reverse: [], done: false, notes: [],
    },
    captureTriggerStep(cfg, 'forward'),
  ];
}

/** The journal's row of this table (capture's statements run where the journal exists: create opened it). */
function migrationOf(cfg: Config): string {
  return `(SELECT m.id FROM partwise.migration m WHERE m.source_schema = ${lit(cfg.schema)} AND m.source_table = ${lit(cfg.table)})`;
}

/**
 * Records the triggers' catalog row versions as installed, in the installing transaction: captureIntegrity compares
 * them later (a disable/enable round trip rewrites the rows).
 */
function recordBaselineStatement(cfg: Config, direction: Direction): string {
  const n = captureNames(cfg, direction);
  return `INSERT INTO partwise.capture_baseline (migration_id, direction, trigger_name, trigger_oid, row_version) ` +
    `SELECT ${migrationOf(cfg)}, ${lit(direction)}, t.tgname, t.oid, t.xmin::text FROM pg_catalog.pg_trigger t ` +
    `WHERE t.tgrelid = ${lit(n.on)}::pg_catalog.regclass AND t.tgname IN (${lit(n.rowTrigger)}, ${lit(n.truncateTrigger)}) ` +
    `ON CONFLICT (migration_id, direction, trigger_name) DO UPDATE SET trigger_oid = EXCLUDED.trigger_oid, row_version = EXCLUDED.row_version, installed_at = now()`;
}

/**
 * Why capture of this direction may have missed writes since it was installed: a trigger missing, not ENABLE ALWAYS,
 * or its catalog row rewritten since the install (disabled and enabled again, or re-created by hand), or no record of
 * the install. Empty when every write since the install was captured. Needs the journal (Journal.open).
 */
export async function captureIntegrity(client: pg.ClientBase, cfg: Config, direction: Direction): Promise<string[]> {
  const n = captureNames(cfg, direction);
  const r = await client.query<{ name: string; present: boolean; enabled: string | null; recorded: boolean; unchanged: boolean; installed_at: Date | null }>(
    `SELECT w.name, t.oid IS NOT NULL AS present, t.tgenabled::text AS enabled, b.row_version IS NOT NULL AS recorded,
            COALESCE(t.oid = b.trigger_oid AND t.xmin::text = b.row_version, false) AS unchanged, b.installed_at
       FROM unnest($1::text[]) AS w(name)
       LEFT JOIN pg_catalog.pg_trigger t ON t.tgrelid = pg_catalog.to_regclass($2) AND t.tgname = w.name AND t.tgfoid = pg_catalog.to_regprocedure($3)
       LEFT JOIN partwise.capture_baseline b
         ON b.migration_id = ${migrationOf(cfg)} AND b.direction = $4 AND b.trigger_name = w.name
      ORDER BY w.name`,
    [[n.rowTrigger, n.truncateTrigger], n.on, `${n.fnQ}()`, direction],
  );
  const problems: string[] = [];
  for (const t of r.rows) {
    if (!t.present) problems.push(`change capture trigger ${t.name} is missing on ${cfg.schema}.${cfg.table}`);
    else if (t.enabled !== 'A') problems.push(`change capture trigger ${t.name} on ${cfg.schema}.${cfg.table} is ${t.enabled === 'D' ? 'disabled' : 'not ENABLE ALWAYS'}: writes are not captured`);
    else if (!t.recorded) problems.push(`there is no record of when change capture trigger ${t.name} was installed (an older partwise installed it), so partwise cannot tell whether it was ever disabled`);
    else if (!t.unchanged)
      problems.push(`change capture trigger ${t.name} on ${cfg.schema}.${cfg.table} was altered after capture was installed (${t.installed_at?.toISOString()}): ` +
        `disabled and enabled again (ALTER TABLE ... DISABLE TRIGGER), or re-created; writes made meanwhile may be missing from ${direction === 'forward' ? cfg.newTable : cfg.oldTable}`);
  }
  return problems;
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
  return [
    `DO ${dollarQuote(body)}`, `DROP FUNCTION IF EXISTS ${n.fnQ}()`, `DROP TABLE IF EXISTS ${n.logQ}`,
    `DELETE FROM partwise.capture_baseline WHERE migration_id = ${migrationOf(cfg)} AND direction = ${lit(direction)}`,
  ];
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
 * Serializes everything that writes the target of one direction: replays (from any process) against each other
 * and against copy batches, which take it in share mode (lockCaptureShared) so that several workers copy at once.
 * Replay must start after every batch that might have copied a stale row version has committed; this lock makes
 * that true across processes. Transaction-scoped; obeys lock_timeout. The swap should take it before its table locks.
 */
export async function lockCapture(client: pg.ClientBase, cfg: Config, direction: Direction): Promise<void> {
  await client.query(captureLockStatement(cfg, direction));
}

/**
 * lockCapture in share mode: what copy batches take, so that the batches of several workers run at once while each
 * replay (which takes lockCapture) still waits for every batch in flight and every batch for a replay in flight, or
 * waiting (docs/behaviours/advisory-share-lock-waits-behind-exclusive.md).
 */
export async function lockCaptureShared(client: pg.ClientBase, cfg: Config, direction: Direction): Promise<void> {
  await client.query(`SELECT pg_advisory_xact_lock_shared(hashtext('partwise capture'), hashtext($1))`, [`${direction} ${cfg.schema}.${cfg.table}`]);
}

/** lockCapture's statement (the previews show it as sent). */
export function captureLockStatement(cfg: Config, direction: Direction): string {
  return `SELECT pg_advisory_xact_lock(hashtext('partwise capture'), hashtext(${lit(`${direction} ${cfg.schema}.${cfg.table}`)}))`;
}

/** `(cols) IN (SELECT u.k1, ... FROM unnest($1::text[]::t1[], ...) AS u(k1, ...))`: keys passed back as text arrays, cast to their types. */
function keyMatch(alias: string, cols: Array<{ name: string; type: string }>): string {
  const left = cols.map((c) => `${alias}.${ident(c.name)}`).join(', ');
  const arrays = cols.map((c, i) => `$${i + 1}::text[]::${c.type}[]`).join(', ');
  const ks = cols.map((_, i) => `k${i + 1}`);
  return `(${left}) IN (SELECT ${ks.map((k) => `u.${k}`).join(', ')} FROM unnest(${arrays}) AS u(${ks.join(', ')}))`;
}

/** The statements a replay sends, built once for replayInTransaction and for the previews. */
export interface ReplaySql {
  /** picks and deletes up to `limit` log entries, returning their keys */
  take: string;
  /** when an entry is a TRUNCATE of the table the application writes: what empties the other side */
  truncate: string;
  /** removes the replayed keys' rows from the other side ($1.. the keys, as text arrays) */
  remove: string;
  /** copies those keys' current rows across */
  insert: string;
}

export function replaySql(snap: Snapshot, cfg: Config, direction: Direction, limit?: number): ReplaySql {
  const n = captureNames(cfg, direction);
  const keyCols = requireKeyColumns(originalTable(snap, direction));
  const ks = keyCols.map((_, i) => `k${i + 1}`);
  const pick = `SELECT seq FROM ${n.logQ} ORDER BY seq${limit ? ` LIMIT ${Math.max(1, Math.floor(limit))}` : ''} FOR UPDATE SKIP LOCKED`;
  const cols = copiedColumns(snap, direction).map((c) => ident(c.name)).join(', ');
  const from = direction === 'forward' ? `ONLY ${n.on}` : n.on;
  return {
    // the entries are picked once, in a CTE, and the DELETE takes exactly those (with the picking subquery inside
    // IN (...), test/capture.test.ts once saw a replay limited to 2 entries take 5 under load)
    take: `WITH picked AS (${pick}) DELETE FROM ${n.logQ} WHERE seq IN (SELECT seq FROM picked) RETURNING op::text AS op, ${ks.map((k) => `${k}::text AS ${k}`).join(', ')}`,
    // forward: the copy starts over; reverse: the old table may still be referenced or read, an MVCC-safe delete
    truncate: direction === 'forward' ? `TRUNCATE ${n.into}` : `DELETE FROM ${n.into}`,
    remove: `DELETE FROM ${n.into} t WHERE ${keyMatch('t', keyCols)}`,
    // by the original's key only: an update that moved the row to another program is handled too
    insert: `INSERT INTO ${n.into} (${cols}) OVERRIDING SYSTEM VALUE SELECT ${cols} FROM ${from} s WHERE ${keyMatch('s', keyCols)}`,
  };
}

export const TOOK_ENTRIES = 'the replay took log entries';
export const TOOK_TRUNCATE = 'an entry is a TRUNCATE';

/**
 * What replayInTransaction sends, for the previews: the capture lock (unless the caller holds it), the take, and what
 * applies the entries taken. Reads (the forward replay's check for rows without a key) are not listed.
 */
export function replayStatements(snap: Snapshot, cfg: Config, direction: Direction, opts: { limit?: number; locked?: boolean } = {}): ScriptStatement[] {
  const r = replaySql(snap, cfg, direction, opts.limit);
  return [
    ...(opts.locked ? [] : [captureLockStatement(cfg, direction)]),
    r.take,
    ...only(TOOK_TRUNCATE, [r.truncate, ...(direction === 'forward' ? resetCopyCheckpointStatements(cfg) : [])]),
    ...only(TOOK_ENTRIES, [r.remove, r.insert]),
  ];
}

/** One replay batch in its own transaction (replayBatch), as sent. */
export function replayBatchStatements(snap: Snapshot, cfg: Config, direction: Direction, limit: number): ScriptStatement[] {
  return [...openingStatements(REPLAY_TRANSACTION), ...replayStatements(snap, cfg, direction, { limit }), closingStatement(REPLAY_TRANSACTION)];
}

/**
 * Applies up to `limit` (default: all) log entries. The caller holds the transaction (and the locks it wants); with
 * `locked` it holds the capture lock too. Returns how many entries were applied.
 */
export async function replayInTransaction(client: pg.ClientBase, snap: Snapshot, cfg: Config, direction: Direction, limit?: number, opts: { locked?: boolean } = {}): Promise<number> {
  if (!opts.locked) await lockCapture(client, cfg, direction);
  const keyCols = requireKeyColumns(originalTable(snap, direction));
  const ks = keyCols.map((_, i) => `k${i + 1}`);
  const sql = replaySql(snap, cfg, direction, limit);
  const taken = await client.query<Record<string, string | null>>(sql.take);
  if (taken.rows.length === 0) return 0;

  if (taken.rows.some((r) => r.op === 'T')) {
    // the source was truncated: everything copied so far is gone; entries after the marker re-insert what came since
    await client.query(sql.truncate);
    if (direction === 'forward') await resetCopyCheckpoints(client, cfg);
  }
  if (direction === 'reverse') {
    // rows go back by the columns both tables have: one of the original's that the partitioned table lacks would be
    // written NULL (or its default) in every row replayed
    const copied = copiedColumns(snap, direction);
    const lost = originalTable(snap, direction).columns.filter((c) => c.generated === '' && !copied.some((x) => x.name === c.name));
    if (lost.length) throw ReplayBlocked.columnsLost(cfg, lost.map((c) => c.name));
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
    if (direction === 'forward') {
      // a row with a NULL partition key cannot exist in the partitioned table: never skip it silently
      const pk = `ROW(${keyCols.map((c) => `s.${ident(c.name)}`).join(', ')})::text`;
      const nullKey = await client.query<{ pk: string }>(
        `SELECT ${pk} AS pk FROM ONLY ${captureNames(cfg, direction).on} s WHERE ${keyMatch('s', keyCols)} AND s.${ident(cfg.key)} IS NULL ORDER BY 1 LIMIT ${NAMED_ROWS + 1}`, columns);
      if (nullKey.rows.length) throw ReplayBlocked.nullKey(cfg, nullKey.rows.map((r) => r.pk));
    }
    await client.query(sql.remove, columns);
    try {
      await client.query(sql.insert, columns);
    } catch (e) {
      if (direction === 'forward' && (e as { code?: string }).code === NO_PARTITION) throw ReplayBlocked.noPartition(cfg, e as Error & { detail?: string });
      throw e;
    }
  }
  return taken.rows.length;
}

/** check_violation: what PostgreSQL raises when no partition (and no default partition) accepts a row. */
const NO_PARTITION = '23514';
/** How many rows a blocked replay names. */
const NAMED_ROWS = 10;

/**
 * A captured change that replay cannot apply to the partitioned copy. Nothing of the replay's transaction stays: the
 * entries remain in the change log, so the copy is never silently short of a row, and every later replay (migrate,
 * verify --data, swap) stops with this message until the row is fixed.
 */
export class ReplayBlocked extends Error {
  constructor(message: string, readonly rows: string[]) {
    super(message);
    this.name = 'ReplayBlocked';
  }

  static nullKey(cfg: Config, rows: string[]): ReplayBlocked {
    const shown = rows.slice(0, NAMED_ROWS);
    return new ReplayBlocked(
      `replay stopped: ${rows.length > NAMED_ROWS ? `more than ${NAMED_ROWS}` : rows.length} row(s) of ${cfg.schema}.${cfg.table} written since capture ` +
        `began have no ${cfg.key} (NULL), primary key ${shown.join(', ')}${rows.length > NAMED_ROWS ? ', ...' : ''}. The partitioned table cannot hold a row ` +
        `without ${cfg.key}, so the swap would leave it behind in the old table. Their changes stay in the change log: give these rows a ` +
        `${cfg.key} (or delete them), then run partwise migrate, partwise verify --data and partwise swap`,
      shown,
    );
  }

  static columnsLost(cfg: Config, columns: string[]): ReplayBlocked {
    return new ReplayBlocked(
      `replay stopped: column(s) ${columns.join(', ')} of ${cfg.schema}.${cfg.oldTable} are missing on ${cfg.schema}.${cfg.table}, so copying rows back would ` +
        `write NULL (or the default) over their values. The changes stay in the change log: partwise rollback says what to do`,
      columns,
    );
  }

  static noPartition(cfg: Config, e: Error & { detail?: string }): ReplayBlocked {
    return new ReplayBlocked(
      `replay stopped: a row written to ${cfg.schema}.${cfg.table} has a ${cfg.key} that no partition of ${cfg.newTable} accepts, and there is no ` +
        `default partition (${e.detail ?? e.message}). Its change stays in the change log: run partwise maintain (it creates the partition) ` +
        `or partwise create (it re-creates the default partition), then partwise migrate, partwise verify --data and partwise swap`,
      e.detail ? [e.detail] : [],
    );
  }
}

/** One replay batch in its own transaction. */
export function replayBatch(client: pg.ClientBase, snap: Snapshot, cfg: Config, direction: Direction, limit: number): Promise<number> {
  return withTransaction(client, REPLAY_TRANSACTION, () => replayInTransaction(client, snap, cfg, direction, limit));
}

/** A replay batch's transaction: its commit does not wait for the WAL flush (src/exec/lazyCommit.ts). */
const REPLAY_TRANSACTION = { lazyCommit: true };

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

/**
 * After a TRUNCATE of the source the copy starts over (and its counts with it). The checkpoints stay, restarted with
 * filenode TRUNCATED: a copy running now finds its scope restarted at its next batch (and says why), never missing.
 */
export async function resetCopyCheckpoints(client: pg.ClientBase, cfg: Config): Promise<void> {
  const r = await client.query(`SELECT to_regclass('partwise.copy_checkpoint') IS NOT NULL AS ok`);
  if (!r.rows[0].ok) return;
  for (const s of resetCopyCheckpointStatements(cfg)) await client.query(s);
}

/**
 * resetCopyCheckpoints' writes, as sent. Parts (block ranges of a scope, several workers) are reset too: the first batch
 * of one finds the file changed and starts its whole scope over (copyBatch).
 */
function resetCopyCheckpointStatements(cfg: Config): string[] {
  const where = `migration_id IN (SELECT id FROM partwise.migration WHERE source_schema = ${lit(cfg.schema)} AND source_table = ${lit(cfg.table)})`;
  return [
    `UPDATE partwise.copy_checkpoint SET filenode = ${TRUNCATED_FILENODE}, next_block = 0, copied = 0, done = false, updated_at = now() WHERE ${where}`,
    `DELETE FROM partwise.copy_progress WHERE ${where}`,
  ];
}

/** A checkpoint's filenode after a replayed TRUNCATE: no relation has it, so the next batch restarts the scope. */
export const TRUNCATED_FILENODE = 0;
