/**
 * The checksum an archive carries: row count and the sum of every row's hash_record_extended over the stored columns
 * in the manifest's order (the expression verify --data uses, src/move/checksum.ts). The server computes it, on the
 * snapshot of the COPY that writes the file, and again on the rows read back from the file (archive) or loaded from
 * it (restore): equal sums mean the same multiset of rows, whatever their order.
 */
import type pg from 'pg';
import { ident } from '../db/quote.js';
import { rowHash } from '../move/checksum.js';

export interface RowsChecksum {
  rows: number;
  checksum: string;
}

/** The stored (not generated) columns of a relation, in attnum order, with their types as the server prints them. */
export async function storedColumns(client: pg.ClientBase, relation: string): Promise<Array<{ name: string; type: string; typeOid: number }>> {
  const r = await client.query<{ name: string; type: string; type_oid: string }>(
    `SELECT a.attname AS name, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type, a.atttypid::int8 AS type_oid
       FROM pg_catalog.pg_attribute a WHERE a.attrelid = pg_catalog.to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
      ORDER BY a.attnum`,
    [relation],
  );
  return r.rows.map((x) => ({ name: x.name, type: x.type, typeOid: Number(x.type_oid) }));
}

/** Count and checksum of `relation` (a quoted name) over `columns` (names, in order), on the caller's snapshot. */
export async function rowsChecksum(client: pg.ClientBase, relation: string, columns: string[], versionNum: number): Promise<RowsChecksum> {
  const types = new Map((await storedColumns(client, relation)).map((c) => [c.name, c.typeOid]));
  const missing = columns.filter((c) => !types.has(c));
  if (missing.length) throw new Error(`${relation} lacks the column(s) ${missing.join(', ')}`);
  const hash = await rowHash(client, columns.map((name) => ({ name, typeOid: types.get(name)! })), versionNum);
  // one backend: this runs beside the application, whose CPUs parallel workers would take
  await client.query(`SELECT pg_catalog.set_config('max_parallel_workers_per_gather', '0', true)`);
  const r = await client.query<{ n: string; h: string }>(`SELECT count(*)::int8 AS n, coalesce(sum(${hash}), 0)::text AS h FROM ONLY ${relation} s`);
  return { rows: Number(r.rows[0]!.n), checksum: r.rows[0]!.h };
}

export const columnList = (columns: string[]) => columns.map(ident).join(', ');
