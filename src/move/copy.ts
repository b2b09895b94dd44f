/**
 * The live copy: batches of source rows, each its own transaction, each a checkpoint.
 *
 * Why the copy is correct (with change capture, capture.ts):
 * - Capture is installed (and committed) before the first batch, so every write committed after that moment
 *   leaves its key in the log. A row the copy never sees was therefore either deleted (nothing to copy) or written
 *   after capture started (its key is in the log), except when the source file is rewritten (TRUNCATE, VACUUM FULL,
 *   CLUSTER, a rewriting ALTER TABLE): that changes the filenode and the scope starts over.
 * - Batches walk heap blocks of the source (ctid ranges) up to the table's end when the scope started. Rows that
 *   existed then and were never written since stay at their ctid, so exactly one batch copies them; the batch and
 *   its checkpoint commit together, so a killed process neither skips nor repeats a range.
 * - A batch copies each row as its snapshot S sees it. If a transaction T writes that row after S, T's log entry
 *   commits after S. Replay and batches take the same advisory lock (batches in share mode, replay exclusively), so
 *   the replay that consumes T's entry starts after the batch committed; it deletes the key from the target and re-inserts the source's current row: the
 *   stale version is replaced. ON CONFLICT DO NOTHING in the batch is safe for this reason only: whatever the batch
 *   skips or writes stale is repaired by a replay that is guaranteed to run after it.
 * - Speed (the same rows, the same result): ON CONFLICT costs a speculative insertion per row and per unique index
 *   (a third more instructions per row than a plain insert, callgrind on the demo). A key can already be in the target
 *   only if some write after capture put it there (replay) or moved the row (its new version has a new xmin). So rows
 *   whose xmin is older than the capture horizon are inserted without ON CONFLICT. The horizon is the xid of the
 *   transaction that created the capture's triggers, read back from its row trigger's catalog row (pg_trigger.xmin);
 *   that transaction takes the table lock before anything gives it an xid (captureTriggerStatements), so a
 *   transaction with a later xid cannot have written the source before the triggers existed: every row whose xmin is
 *   newer than the horizon was written through the trigger and its key is in the log. Being the install's own xid,
 *   the horizon stays right on resume and after a reinstall by migrate, and no journal has to keep it.
 *   Rows newer than the horizon are then either left to replay, which copies them from the log in any case (one scan
 *   of the range, no row copied twice), or inserted by a second statement with ON CONFLICT DO NOTHING. The first is
 *   taken only while age() is exact for every xid the cluster ever assigned: the 64-bit xid counter is still below
 *   2^32, so no raw xmin can alias a recent one (a frozen tuple keeps its raw xmin; after the counter passes 2^32 an
 *   ancient one could look newer than the horizon, and a row that no log entry covers must never be skipped), the
 *   triggers are enabled (installed ENABLE ALWAYS: replica-role sessions are logged too), and the table's catalog row
 *   is not newer than the trigger's (a rewriting ALTER TABLE gives every row a new xmin and logs nothing). An age
 *   below zero is an xmin more than 2^31 xids back, or one newer than the batch's own xid: inserted either way. If the fast statement still meets a conflict (a transaction
 *   that had its xid before the install and wrote the source after it), it is rolled back to a savepoint and the whole
 *   batch is inserted with ON CONFLICT DO NOTHING, exactly as without the fast path.
 *   - insert after S: not in the batch; logged; replay inserts it.
 *   - update after S: the batch may copy the old version; replay deletes it and inserts the new one.
 *   - key-changing update (row moves to another program): replay deletes by the original primary key alone, so the
 *     copy in the old program's partition goes, and the row is inserted into the new one. A batch that meets the
 *     moved row again at its new ctid conflicts (same key in the same partition) or inserts a second version that
 *     the pending log entry's replay removes.
 *   - delete after S: the batch may copy the row; the log holds its key; replay deletes it and finds no source row
 *     to re-insert. (A direct-apply trigger with ON CONFLICT DO NOTHING resurrects exactly this row: the delete
 *     runs before the batch inserts.)
 *   - truncate: TRUNCATE waits for running batches (ACCESS EXCLUSIVE against ACCESS SHARE), logs a marker; replay
 *     truncates the target and resets the checkpoints; entries after the marker re-insert what came since.
 * - Several workers (migrate --workers N): each batch takes the lock in share mode before its snapshot, so batches
 *   run together while a replay still waits for every batch in flight, and a batch that starts while a replay waits
 *   queues behind it (docs/behaviours/advisory-share-lock-waits-behind-exclusive.md): the argument above holds for
 *   each batch. Each checkpoint row (a scope, or a part of one: copyParts.ts) is walked by one worker, under FOR
 *   UPDATE, and the parts of a scope cover disjoint block ranges, so each unwritten row is copied by exactly one
 *   batch. Two batches that meet over one row (a version in each range) wait for each other's insert; a deadlock
 *   between them rolls one back with its checkpoint, and it is run again.
 * - Replay itself reads the current source row per key; a write racing with it logs again and is replayed later.
 *   When the backlog is drained after the last write, every key is equal on both sides.
 */
import type pg from 'pg';
import type { Column } from '../catalog/types.js';
import type { Config } from '../config/config.js';
import { qname } from '../db/quote.js';
import { lockCaptureShared, TRUNCATED_FILENODE } from './capture.js';
import { captureNames } from './captureNames.js';
import { withTransaction } from '../exec/transaction.js';
import { batchCounter } from './copyCount.js';
import { copyInsertParams, copyInsertSql, type KeyFilter, type XminBand } from './copyInsert.js';

/** What one run of the copy walks: all rows, one program, or the keys without a lookup row. */
export type Scope = (
  | { id: 'all'; kind: 'all' }
  | { id: string; kind: 'key'; key: string }
  | { id: 'rest'; kind: 'rest' }
) & {
  /**
   * one block range of the scope (a part, see copyParts.ts), by its first block: its own checkpoint row, so that
   * several workers copy one scope at once
   */
  part?: number;
};

export const keyScope = (key: string): Scope => ({ id: `key:${key}`, kind: 'key', key });

/** SQL: the checkpoint rows of the parts of scope $2 of migration $1 (the scope id follows the second colon). */
export const PARTS_OF = `migration_id = $1 AND scope LIKE 'part:%' AND substr(scope, position(':' in substr(scope, 6)) + 6) = $2`;

/** The checkpoint row of a scope or of one of its parts ('part:<first block>:<scope id>'; a scope id never starts with 'part:'). */
export const checkpointId = (scope: Scope): string => (scope.part === undefined ? scope.id : `part:${scope.part}:${scope.id}`);

export interface Checkpoint {
  scope: string;
  filenode: number;
  endBlock: number;
  nextBlock: number;
  copied: number;
  done: boolean;
}

/** Everything a batch needs, fixed for one run (columns are refreshed when the source drifts). */
export interface CopyTarget {
  cfg: Config;
  migrationId: number;
  columns: Column[];
  keyType: string;
  /**
   * true: rows older than the capture's install are inserted without ON CONFLICT, newer ones are left to replay or
   * inserted with it (see "Speed" above). false or unset: every row goes through ON CONFLICT DO NOTHING.
   */
  fastPath?: boolean;
  /** never leave the newer rows to replay: always the two statements (for tests of that path) */
  alwaysSplit?: boolean;
}

/**
 * How a batch inserted its rows (see "Speed" above): `old-only`: the rows older than the install, the newer ones left
 * to replay; `split`: the older ones, then the newer ones with ON CONFLICT; `fallback`: the fast statement met a
 * conflict, all with ON CONFLICT; `on-conflict`: no fast path.
 */
export type BatchPath = 'on-conflict' | 'old-only' | 'split' | 'fallback';

/** age() is exact for every xid while the 64-bit counter is below 2^32 (margin: xids assigned during the batch). */
const EXACT_AGE_BELOW = 2n ** 32n - 2n ** 20n;

const UNIQUE_VIOLATION = '23505';
const INT32_MAX = 2_147_483_647;

function cp(row: Record<string, unknown>): Checkpoint {
  return {
    scope: String(row.scope), filenode: Number(row.filenode), endBlock: Number(row.end_block), nextBlock: Number(row.next_block),
    copied: Number(row.copied), done: Boolean(row.done),
  };
}

export async function readCheckpoints(client: pg.ClientBase, migrationId: number): Promise<Checkpoint[]> {
  const r = await client.query(`SELECT * FROM partwise.copy_checkpoint WHERE migration_id = $1 ORDER BY scope`, [migrationId]);
  return r.rows.map(cp);
}

/** The source's current file and its size in blocks. */
export async function sourceFile(client: pg.ClientBase, cfg: Config): Promise<{ filenode: number; blocks: number }> {
  const r = await client.query(
    `SELECT pg_relation_filenode(c.oid)::int8 AS filenode, (pg_relation_size(c.oid) / current_setting('block_size')::int)::int8 AS blocks
       FROM pg_class c WHERE c.oid = to_regclass($1)`,
    [qname(cfg.schema, cfg.table)],
  );
  return { filenode: Number(r.rows[0].filenode), blocks: Number(r.rows[0].blocks) };
}

/**
 * The scope's checkpoint, created at the table's current end if missing, restarted if the source's file changed.
 * Must be called after capture is installed: rows beyond end_block are written after that, hence logged.
 */
export async function startScope(client: pg.ClientBase, t: CopyTarget, scope: Scope): Promise<Checkpoint & { truncated?: boolean }> {
  const f = await sourceFile(client, t.cfg);
  // a scope that replay reset after a TRUNCATE of the source (filenode TRUNCATED_FILENODE): the caller says so and
  // starts its counts over, as copyBatch's `truncated` does
  const before = (await client.query<{ filenode: string }>(`SELECT filenode FROM partwise.copy_checkpoint WHERE migration_id = $1 AND scope = $2`, [t.migrationId, scope.id])).rows[0];
  const r = await client.query(
    `INSERT INTO partwise.copy_checkpoint (migration_id, scope, filenode, end_block) VALUES ($1, $2, $3, $4)
     ON CONFLICT (migration_id, scope) DO UPDATE SET filenode = EXCLUDED.filenode, end_block = EXCLUDED.end_block, next_block = 0, done = false, updated_at = now()
       WHERE copy_checkpoint.filenode <> EXCLUDED.filenode
     RETURNING *`,
    [t.migrationId, scope.id, f.filenode, f.blocks],
  );
  if (r.rows[0]) {
    // restarted on a new file: its parts, if it had any, walked the old one
    await client.query(`DELETE FROM partwise.copy_checkpoint WHERE ${PARTS_OF}`, [t.migrationId, scope.id]);
    return { ...cp(r.rows[0]), ...(before && Number(before.filenode) === TRUNCATED_FILENODE ? { truncated: true } : {}) };
  }
  return cp((await client.query(`SELECT * FROM partwise.copy_checkpoint WHERE migration_id = $1 AND scope = $2`, [t.migrationId, scope.id])).rows[0]);
}

/**
 * How a batch counts what it copied per program, for the progress bars. RETURNING costs the copy about 6 % of its
 * instructions (every row projected and stored once more just to be counted: callgrind, 100,000 demo rows), so it is
 * the last resort:
 * - `scope`: the scope feeds one program (one key, or the keys without a lookup row): the statements' row counts;
 * - `partition`: each partition holds one program's rows: the inserts this transaction made into each partition, from
 *   its own statistics (pg_stat_get_xact_tuples_inserted, read before and after inside the batch);
 * - `returning`: otherwise (a partition shared by programs): per key, from RETURNING.
 */
export type ProgressCount =
  | { by: 'scope'; program: string }
  | { by: 'partition'; programOf: ReadonlyMap<number, string> }
  | { by: 'returning' };

export interface BatchResult {
  /**
   * rows inserted per program: the `program` of a `scope` count, the values of a `partition` count's map, or key
   * texts with `returning`
   */
  copiedByProgram: Map<string, number>;
  copied: number;
  checkpoint: Checkpoint;
  /** the source's file changed (rewrite, truncate): the scope restarted at block 0 */
  restarted: boolean;
  /** the source was truncated and replay has not applied its marker yet: replay first, then batch again */
  awaitReplay?: boolean;
  /** the part's checkpoint is gone: its scope started over (a rewrite of the source); the scope is planned again */
  gone?: boolean;
  /** the restart came from a TRUNCATE of the source (replayed: the new table was emptied and the counts reset) */
  truncated?: boolean;
  /** null when the batch had no block to copy */
  path: BatchPath | null;
  /**
   * a `partition` count did not add up to the rows inserted (a partition attached mid-copy, track_counts turned off,
   * a speculative insertion that lost a race): copiedByProgram is left empty; count with RETURNING from now on
   */
  countMismatch?: boolean;
}

/**
 * backend_flush_after for a batch with smoothWrites. A copy evicts its dirty pages into the kernel's cache, which
 * writes them back in bursts; every commit of the application waits behind such a burst (the benchmark measured
 * single writes held 150-180 ms, twice in a 45 s copy). Flushing after every 256kB spreads them out, at a cost in
 * the copy's own speed, so it goes with a rate limit only.
 */
export const SMOOTH_FLUSH_AFTER = '256kB';

export interface BatchOptions {
  smoothWrites?: boolean;
  /** default `returning` */
  count?: ProgressCount;
}

/**
 * One batch: up to `blocks` heap blocks of the scope, in one transaction with its checkpoint. `excludeKeys`:
 * for 'all', programs already finished on their own; for 'rest', every program with a lookup row.
 */
export async function copyBatch(
  client: pg.ClientBase, t: CopyTarget, scope: Scope, blocks: number, excludeKeys: string[], opts: BatchOptions = {},
): Promise<BatchResult> {
  const { cfg } = t;
  const count: ProgressCount = opts.count ?? { by: 'returning' };
  const settings: Array<[string, string]> = opts.smoothWrites ? [['backend_flush_after', SMOOTH_FLUSH_AFTER]] : [];
  return withTransaction(client, { settings, lazyCommit: true }, async (): Promise<BatchResult> => {
    // shared: batches of several workers run at once; replay takes it exclusively (see "Several workers" above)
    await lockCaptureShared(client, cfg, 'forward');
    const id = checkpointId(scope);
    const row = (await client.query(`SELECT * FROM partwise.copy_checkpoint WHERE migration_id = $1 AND scope = $2 FOR UPDATE`, [t.migrationId, id])).rows[0];
    if (!row) {
      if (scope.part !== undefined) return { copiedByProgram: new Map(), copied: 0, checkpoint: { scope: id, filenode: 0, endBlock: 0, nextBlock: 0, copied: 0, done: true }, restarted: false, gone: true, path: null };
      throw new Error(`no checkpoint for scope ${scope.id}: startScope first`);
    }
    let c = cp(row);
    const f = await sourceFile(client, cfg);
    if (f.filenode !== c.filenode && c.filenode !== TRUNCATED_FILENODE && (await truncatePending(client, cfg))) {
      // a TRUNCATE whose marker replay has not applied yet: replay empties the new table and resets every scope first
      // (then this one restarts as truncated, its counts with it); nothing is copied meanwhile
      return { copiedByProgram: new Map(), copied: 0, checkpoint: c, restarted: false, path: null, awaitReplay: true };
    }
    if (f.filenode !== c.filenode) {
      // the whole scope starts over on the new file, its parts gone (a worker on another part finds it gone)
      await client.query(
        `UPDATE partwise.copy_checkpoint SET filenode = $3, end_block = $4, next_block = 0, done = false, updated_at = now() WHERE migration_id = $1 AND scope = $2`,
        [t.migrationId, scope.id, f.filenode, f.blocks],
      );
      await client.query(`DELETE FROM partwise.copy_checkpoint WHERE ${PARTS_OF}`, [t.migrationId, scope.id]);
      return {
        copiedByProgram: new Map(), copied: 0, checkpoint: { ...c, filenode: f.filenode, endBlock: f.blocks, nextBlock: 0, done: false }, restarted: true,
        truncated: c.filenode === TRUNCATED_FILENODE, path: null, gone: scope.part !== undefined,
      };
    }
    const from = c.nextBlock;
    const to = Math.min(c.endBlock, from + Math.max(1, Math.floor(blocks)));
    let copiedByProgram = new Map<string, number>();
    let copied = 0;
    let path: BatchPath | null = null;
    let countMismatch = false;
    if (to > from) {
      const filter: KeyFilter = scope.kind === 'key' ? { kind: 'key', key: scope.key } : { kind: 'except', keys: excludeKeys };
      const counter = batchCounter(client, count);
      const sql = (xmin: XminBand, onConflict: boolean) =>
        copyInsertSql({ cfg, columns: t.columns, keyType: t.keyType, filter, xmin, onConflict, returning: counter.returning });
      const run = async (xmin: XminBand, onConflict: boolean, span?: number) =>
        counter.add(await client.query<{ k: string; n: string }>(sql(xmin, onConflict), copyInsertParams(from, to, filter, span)));
      await counter.begin();
      const horizon = t.fastPath ? await captureHorizon(client, cfg) : null;
      if (horizon === null) {
        path = 'on-conflict';
        await run('any', true);
      } else {
        path = horizon.exact && !t.alwaysSplit ? 'old-only' : 'split';
        await client.query('SAVEPOINT partwise_fast_copy');
        try {
          await run('old', false, horizon.span);
          if (path === 'split') await run('new', true, horizon.span);
        } catch (e) {
          if ((e as { code?: string }).code !== UNIQUE_VIOLATION) throw e;
          path = 'fallback';
          await client.query('ROLLBACK TO SAVEPOINT partwise_fast_copy');
          await counter.restart();
          await run('any', true);
        }
      }
      ({ copiedByProgram, copied, countMismatch } = await counter.finish());
      if (copiedByProgram.size) {
        await client.query(
          `INSERT INTO partwise.copy_progress (migration_id, program, copied) SELECT $1, k, n FROM unnest($2::text[], $3::int8[]) AS u(k, n)
           ON CONFLICT (migration_id, program) DO UPDATE SET copied = copy_progress.copied + EXCLUDED.copied`,
          // in one order for every worker: two batches never wait for each other's progress rows crosswise
          [t.migrationId, [...copiedByProgram.keys()].sort(), [...copiedByProgram.keys()].sort().map((k) => copiedByProgram.get(k)!)],
        );
      }
    }
    const done = to >= c.endBlock;
    await client.query(
      `UPDATE partwise.copy_checkpoint SET next_block = $3, copied = copied + $4, done = $5, updated_at = now() WHERE migration_id = $1 AND scope = $2`,
      [t.migrationId, id, to, copied, done],
    );
    c = { ...c, nextBlock: to, copied: c.copied + copied, done };
    return { copiedByProgram, copied, checkpoint: c, restarted: false, path, countMismatch };
  });
}

/** Whether the change log holds a TRUNCATE marker that replay has not applied yet. */
async function truncatePending(client: pg.ClientBase, cfg: Config): Promise<boolean> {
  const log = captureNames(cfg, 'forward').logQ;
  const r = await client.query<{ t: boolean }>(`SELECT EXISTS (SELECT 1 FROM ${log} WHERE op = 'T') AS t`);
  return r.rows[0]!.t;
}

/**
 * The age of the forward capture's install in this transaction: age() of the xid that created the row trigger
 * (pg_trigger.xmin). age() counts from one reference xid for the whole transaction, so the batch's age(s.xmin)
 * compares with it exactly. `exact`: the newer rows may be left to replay (see "Speed"). null when capture is not installed
 * or the install is too old for age()'s int4 (its catalog row frozen): every row then takes the ON CONFLICT path.
 */
async function captureHorizon(client: pg.ClientBase, cfg: Config): Promise<{ span: number; exact: boolean } | null> {
  // `rewritten`: the table's catalog row is newer than the trigger's: a rewriting ALTER TABLE (or another change of
  // the table) came after the install. A rewrite gives every row its own xid without a trigger firing, so newer rows
  // may be missing from the log: they are inserted by the second statement then, never left to replay.
  // `enabled`: a disabled trigger logs nothing.
  const r = await client.query<{ span: number; next: string; rewritten: boolean; enabled: boolean }>(
    `SELECT age(t.xmin) AS span, pg_catalog.pg_snapshot_xmax(pg_catalog.pg_current_snapshot())::text AS next,
            age(c.xmin) < age(t.xmin) AS rewritten, t.tgenabled <> 'D' AS enabled
       FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
      WHERE t.tgrelid = to_regclass($1) AND t.tgname = $2`,
    [qname(cfg.schema, cfg.table), captureNames(cfg, 'forward').rowTrigger],
  );
  const row = r.rows[0];
  if (!row || typeof row.span !== 'number' || row.span < 0 || row.span >= INT32_MAX) return null;
  return { span: row.span, exact: BigInt(row.next) < EXACT_AGE_BELOW && !row.rewritten && row.enabled };
}
