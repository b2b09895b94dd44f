/**
 * The INSERT … SELECT of one copy batch, as text and parameters: pure (no session), so each of its shapes is tested on
 * its own (test/copy-insert.test.ts). copyBatch (copy.ts) decides which shapes to run; see "Speed" there for why
 * rows are split by their xmin.
 */
import type { Column } from '../catalog/types.js';
import type { Config } from '../config/config.js';
import { ident, qname } from '../db/quote.js';

/**
 * Which source rows a scope's filter keeps: one program's key, or every non-NULL key except the listed ones (the
 * programs done on their own, or every program with a lookup row for the rest).
 */
export type KeyFilter = { kind: 'key'; key: string } | { kind: 'except'; keys: string[] };

/**
 * Which rows by age: `any`; `old`: xmin older than the capture's install (no ON CONFLICT needed); `new`: written
 * since the install (age between 0 and the install's age). $4 is the install's age (captureHorizon in copy.ts).
 */
export type XminBand = 'any' | 'old' | 'new';

export interface CopyInsertShape {
  cfg: Config;
  columns: Column[];
  keyType: string;
  filter: KeyFilter;
  xmin: XminBand;
  onConflict: boolean;
  /** wrap in a CTE that returns the inserted rows counted per key text (k, n) */
  returning: boolean;
}

/** The statement. Parameters: $1, $2 the ctid bounds, $3 the key or the excluded keys, $4 the install's age (xmin bands). */
export function copyInsertSql(s: CopyInsertShape): string {
  const { cfg } = s;
  const cols = s.columns.map((x) => ident(x.name)).join(', ');
  const k = `s.${ident(cfg.key)}`;
  const filter = s.filter.kind === 'key' ? `${k} = $3::${s.keyType}` : `${k} IS NOT NULL AND NOT (${k} = ANY($3::text[]::${s.keyType}[]))`;
  // age() counts back from one reference xid for the whole transaction: age(xmin) > span means xmin precedes the
  // install; below zero, more than 2^31 xids back
  const xmin = s.xmin === 'old' ? ' AND (age(s.xmin) > $4 OR age(s.xmin) < 0)' : s.xmin === 'new' ? ' AND age(s.xmin) BETWEEN 0 AND $4' : '';
  const plain =
    `INSERT INTO ${qname(cfg.schema, cfg.newTable)} (${cols}) OVERRIDING SYSTEM VALUE ` +
    `SELECT ${s.columns.map((x) => `s.${ident(x.name)}`).join(', ')} FROM ONLY ${qname(cfg.schema, cfg.table)} s ` +
    `WHERE s.ctid >= $1::tid AND s.ctid < $2::tid AND ${filter}${xmin}${s.onConflict ? ' ON CONFLICT DO NOTHING' : ''}`;
  if (!s.returning) return plain;
  // grouped by the key itself, cast to text once per group, not once per row
  return `WITH ins AS (${plain} RETURNING ${ident(cfg.key)}) SELECT g.k::text AS k, g.n FROM (SELECT ${ident(cfg.key)} AS k, count(*)::int8 AS n FROM ins GROUP BY 1) g`;
}

/** The parameters for copyInsertSql: blocks [from, to), the filter's value, the install's age when a band needs it. */
export function copyInsertParams(from: number, to: number, filter: KeyFilter, span?: number): unknown[] {
  const p: unknown[] = [`(${from},0)`, `(${to},0)`, filter.kind === 'key' ? filter.key : filter.keys];
  if (span !== undefined) p.push(span);
  return p;
}
