/**
 * The back-fill of the key column partwise adds to each child (src/plan/carryChildren.ts), run by migrate after the
 * copy. Why it is complete: create installed the fill trigger (committed) before the back-fill starts, and migrate
 * installed the source's key-following trigger just before it; from then on every new or changed reference and
 * every key change of a parent sets the column. The back-fill walks the child's heap blocks up to its end when it
 * started (every row older than the triggers lies there) in ranges, each one transaction with its checkpoint in
 * partwise.child_backfill, so a killed process resumes at the last committed range. A batch sets only rows whose key
 * differs from their parent's: rows the triggers filled are left alone, and a second pass changes nothing.
 * Throttled like the copy (the live controls: batch size, rate limit, sleep, pause); progress as `child.progress`
 * events.
 */
import type pg from 'pg';
import type { Config } from '../config/config.js';
import { qname } from '../db/quote.js';
import type { Emit } from '../events.js';
import { withTransaction } from '../exec/transaction.js';
import { backfillBatchSql, childName, mismatchCountSql, type ChildCarry } from '../plan/carryChildren.js';
import type { Controls } from './control.js';
import { blocksForRows, sleep } from './progress.js';

export interface ChildCheckpoint {
  child: string;
  filenode: number;
  endBlock: number;
  nextBlock: number;
  filled: number;
  done: boolean;
}

const checkpoint = (r: Record<string, unknown>): ChildCheckpoint => ({
  child: String(r.child), filenode: Number(r.filenode), endBlock: Number(r.end_block), nextBlock: Number(r.next_block), filled: Number(r.filled), done: Boolean(r.done),
});

export async function readChildCheckpoints(client: pg.ClientBase, migrationId: number): Promise<ChildCheckpoint[]> {
  const exists = await client.query(`SELECT to_regclass('partwise.child_backfill') IS NOT NULL AS ok`);
  if (!exists.rows[0].ok) return [];
  const r = await client.query(`SELECT * FROM partwise.child_backfill WHERE migration_id = $1 ORDER BY child`, [migrationId]);
  return r.rows.map(checkpoint);
}

async function childFile(client: pg.ClientBase, child: string): Promise<{ filenode: number; blocks: number; rows: number }> {
  const r = await client.query(
    `SELECT pg_relation_filenode(c.oid)::int8 AS filenode, (pg_relation_size(c.oid) / current_setting('block_size')::int)::int8 AS blocks, c.reltuples::int8 AS rows
       FROM pg_class c WHERE c.oid = to_regclass($1)`,
    [child],
  );
  return { filenode: Number(r.rows[0].filenode), blocks: Number(r.rows[0].blocks), rows: Number(r.rows[0].rows) };
}

/** The child's checkpoint: created at its current end, restarted when its file changed (a rewrite moves the rows). */
async function startChild(client: pg.ClientBase, migrationId: number, child: string): Promise<ChildCheckpoint> {
  const f = await childFile(client, child);
  const r = await client.query(
    `INSERT INTO partwise.child_backfill (migration_id, child, filenode, end_block) VALUES ($1, $2, $3, $4)
     ON CONFLICT (migration_id, child) DO UPDATE SET filenode = EXCLUDED.filenode, end_block = EXCLUDED.end_block, next_block = 0, done = false, updated_at = now()
       WHERE child_backfill.filenode <> EXCLUDED.filenode
     RETURNING *`,
    [migrationId, child, f.filenode, f.blocks],
  );
  if (r.rows[0]) return checkpoint(r.rows[0]);
  return checkpoint((await client.query(`SELECT * FROM partwise.child_backfill WHERE migration_id = $1 AND child = $2`, [migrationId, child])).rows[0]);
}

const tid = (block: number) => `(${Math.trunc(block)},0)`;

export interface BackfillHooks {
  /** before each batch: the controls in force; waits while paused, throws to stop (a signal, a lost lease) */
  between(): Promise<Controls>;
  signal?: AbortSignal;
}

export function emitChild(emit: Emit, c: ChildCarry, cp: ChildCheckpoint, state: 'filling' | 'indexing' | 'done', rowsPerSec = 0): void {
  emit({ type: 'child.progress', child: childName(c), filled: cp.filled, blocksDone: Math.min(cp.nextBlock, cp.endBlock), blocks: cp.endBlock, rowsPerSec, state });
}

/**
 * Back-fills one child to the end of its checkpoint's range. The batches run as session_replication_role = replica
 * when the role may set it (a superuser): the child's own UPDATE triggers then do not fire for a column the
 * application never wrote (partwise's fill trigger does not fire either way: it fires on the foreign key's columns).
 */
export async function backfillChild(client: pg.ClientBase, cfg: Config, migrationId: number, c: ChildCarry, emit: Emit, hooks: BackfillHooks, superuser: boolean): Promise<ChildCheckpoint> {
  let cp = await startChild(client, migrationId, c.child);
  const sql = backfillBatchSql(c, qname(cfg.schema, cfg.table));
  if (cp.done) {
    // a finished back-fill is checked once more: a row whose key went missing or stale since (the fill trigger
    // disabled for a while, a race with a key change) starts a new pass, which sets only such rows
    const n = Number((await client.query(mismatchCountSql(c, qname(cfg.schema, cfg.table)))).rows[0].n);
    if (n > 0) {
      emit({ type: 'warn', message: `${n} row(s) of ${childName(c)} have no ${c.column} or another one than the row they reference: the back-fill runs again over the table` });
      const f = await childFile(client, c.child);
      cp = checkpoint((await client.query(
        `UPDATE partwise.child_backfill SET filenode = $3, end_block = $4, next_block = 0, done = false, updated_at = now() WHERE migration_id = $1 AND child = $2 RETURNING *`,
        [migrationId, c.child, f.filenode, f.blocks],
      )).rows[0]);
    }
  }
  const start = Date.now();
  let filledThisRun = 0;
  emitChild(emit, c, cp, cp.done ? 'done' : 'filling');
  while (!cp.done) {
    const controls = await hooks.between();
    const f = await childFile(client, c.child);
    if (f.filenode !== cp.filenode) {
      cp = await startChild(client, migrationId, c.child);
      emit({ type: 'warn', message: `${childName(c)} was rewritten (VACUUM FULL, CLUSTER, a rewriting ALTER TABLE) during its back-fill: it starts over; rows already filled are skipped` });
      continue;
    }
    const rows = Math.max(1, Math.min(controls.batchSize, controls.maxRate ? Math.ceil(controls.maxRate / 5) : Infinity));
    // rows per block from the statistics; a child never analyzed (reltuples -1) is taken at 100 rows a block, a
    // narrow row's order of magnitude, so that a batch stays near its row count either way
    const blocks = blocksForRows(rows, f.rows > 0 ? f.rows : f.blocks * 100, Math.max(cp.endBlock, 1));
    const from = cp.nextBlock;
    const to = Math.min(cp.endBlock, from + blocks);
    const t0 = Date.now();
    let n = 0;
    const current = cp;
    cp = await withTransaction(client, {}, async () => {
      if (superuser) await client.query(`SET LOCAL session_replication_role = replica`);
      n = from < to ? ((await client.query(sql, [tid(from), tid(to)])).rowCount ?? 0) : 0;
      const done = to >= current.endBlock;
      const r = await client.query(
        `UPDATE partwise.child_backfill SET next_block = $3, filled = filled + $4, done = $5, updated_at = now() WHERE migration_id = $1 AND child = $2 RETURNING *`,
        [migrationId, c.child, to, n, done],
      );
      return checkpoint(r.rows[0]);
    });
    filledThisRun += n;
    const seconds = (Date.now() - start) / 1000;
    emitChild(emit, c, cp, cp.done ? 'done' : 'filling', seconds > 0 ? filledThisRun / seconds : 0);
    const minMs = controls.maxRate ? (n / controls.maxRate) * 1000 : 0;
    if (!cp.done) await sleep(Math.max(0, minMs - (Date.now() - t0)) + controls.sleepMs, hooks.signal);
  }
  return cp;
}
