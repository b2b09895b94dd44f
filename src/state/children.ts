/**
 * The tables partwise carries because their foreign key into the source lacks the key (src/plan/carryChildren.ts), as
 * the screens and status show them: the column added, the back-fill's progress (partwise.child_backfill), the index,
 * and which foreign key is in place. Read without locks in a few small queries, like the rest of the facts.
 */
import type pg from 'pg';
import type { Config } from '../config/config.js';
import { fitIdentifier } from '../config/names.js';
import { qname } from '../db/quote.js';

export interface ChildView {
  /** schema.table, for people */
  child: string;
  constraint: string;
  /** the key column is there (create added it) */
  column: boolean;
  /** the back-fill: null before it started */
  backfill: { filled: number; blocksDone: number; blocks: number; done: boolean } | null;
  /** partwise's index on (fk columns, key) exists and is valid */
  indexed: boolean;
  /** the foreign key in place: the original (by the columns alone) or the composite one (after the swap) */
  foreignKey: 'original' | 'composite';
}

/** Foreign keys into the table the application uses that lack the key, or that partwise made composite (its fill trigger is there). */
const CHILDREN_SQL = `
SELECT n.nspname AS schema, r.relname AS table, co.conname AS constraint,
       (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(co.conkey) WITH ORDINALITY k(attnum, ord)
          JOIN pg_attribute a ON a.attrelid = co.conrelid AND a.attnum = k.attnum) AS columns,
       EXISTS (SELECT 1 FROM unnest(co.confkey) k(attnum) JOIN pg_attribute a ON a.attrelid = co.confrelid AND a.attnum = k.attnum WHERE a.attname = $2) AS composite,
       EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = r.oid AND a.attname = $2 AND a.attnum > 0 AND NOT a.attisdropped) AS has_column,
       EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = r.oid AND t.tgname = $3) AS filled_by_partwise
  FROM pg_constraint co
  JOIN pg_class r ON r.oid = co.conrelid
  JOIN pg_namespace n ON n.oid = r.relnamespace
 WHERE co.contype = 'f' AND co.confrelid = to_regclass($1) AND co.conparentid = 0 AND co.conrelid <> co.confrelid
 ORDER BY 1, 2, 3`;

export async function readChildViews(client: pg.ClientBase, cfg: Config, migrationId: number | null): Promise<ChildView[]> {
  const r = await client.query(CHILDREN_SQL, [qname(cfg.schema, cfg.table), cfg.key, fitIdentifier(`partwise_fill_${cfg.key}`)]);
  const rows = r.rows.filter((x) => !x.composite || x.filled_by_partwise);
  if (!rows.length) return [];
  const progress = new Map<string, { filled: number; blocksDone: number; blocks: number; done: boolean }>();
  if (migrationId !== null && (await client.query(`SELECT to_regclass('partwise.child_backfill') IS NOT NULL AS ok`)).rows[0].ok) {
    const cps = await client.query(`SELECT child, filled, next_block, end_block, done FROM partwise.child_backfill WHERE migration_id = $1`, [migrationId]);
    for (const c of cps.rows) progress.set(c.child, { filled: Number(c.filled), blocksDone: Math.min(Number(c.next_block), Number(c.end_block)), blocks: Number(c.end_block), done: c.done });
  }
  const out: ChildView[] = [];
  for (const x of rows) {
    const index = qname(x.schema, fitIdentifier(`${x.table}_${[...x.columns, cfg.key].join('_')}_idx`));
    const ix = await client.query(`SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass($1)`, [index]);
    out.push({
      child: `${x.schema}.${x.table}`, constraint: x.constraint, column: x.has_column, backfill: progress.get(qname(x.schema, x.table)) ?? null,
      indexed: ix.rows[0]?.indisvalid === true, foreignKey: x.composite ? 'composite' : 'original',
    });
  }
  return out;
}

export type ChildProgressEvent = { type: 'child.progress'; child: string; filled: number; blocksDone: number; blocks: number; rowsPerSec: number; state: 'filling' | 'indexing' | 'done' };

/** One line of the children list as the screens show it (pure: the journal's view, with this terminal's live events on top). */
export interface ChildLine {
  child: string;
  constraint: string;
  /** 0-1 of the back-fill, null before it started */
  ratio: number | null;
  filled: number | null;
  rowsPerSec: number | null;
  /** what stands, in a few words */
  state: 'column to add' | 'column added' | 'back-filling' | 'indexing' | 'back-filled' | 'ready' | 'foreign key replaced';
}

export function childLines(views: ChildView[], live: ChildProgressEvent[]): ChildLine[] {
  return views.map((v) => {
    const e = live.find((x) => x.child === v.child);
    const b = e ? { filled: e.filled, blocksDone: e.blocksDone, blocks: e.blocks, done: e.state !== 'filling' } : v.backfill;
    const ratio = b ? (b.blocks > 0 ? b.blocksDone / b.blocks : b.done ? 1 : 0) : null;
    const state: ChildLine['state'] = v.foreignKey === 'composite' ? 'foreign key replaced'
      : e?.state === 'indexing' ? 'indexing'
      : e?.state === 'filling' || (b && !b.done) ? 'back-filling'
      : b?.done ? (v.indexed || e?.state === 'done' ? 'ready' : 'back-filled')
      : v.column ? 'column added' : 'column to add';
    return { child: v.child, constraint: v.constraint, ratio, filled: b?.filled ?? null, rowsPerSec: e && e.state === 'filling' ? e.rowsPerSec : null, state };
  });
}
