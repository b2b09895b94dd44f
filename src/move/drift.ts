/**
 * Schema drift during the copy (postgres-facts 6, 31): a column added to the source after create. Checked before
 * every batch; an added column is added to the new table's parent (the only place columns can be added) and
 * back-filled from the source, so rows copied or replayed before it existed get its value.
 */
import type pg from 'pg';
import type { Column } from '../catalog/types.js';
import type { Config } from '../config/config.js';
import { ident, qname } from '../db/quote.js';
import { columnDefinition } from '../plan/ddl.js';
import { CATALOG_SEARCH_PATH, withTransaction } from '../exec/transaction.js';
import { sqlFile } from '../sqlFiles.js';
import { lockCapture } from './capture.js';

type Row = Record<string, unknown>;

/** Columns of one table, read like the catalog snapshot does (search_path = pg_catalog: type names qualified). */
export function readColumns(client: pg.ClientBase, schema: string, table: string): Promise<Column[]> {
  return withTransaction(client, { readOnly: true, settings: [CATALOG_SEARCH_PATH] }, async () => {
    const oid = (await client.query(`SELECT to_regclass($1)::oid::int8 AS oid`, [qname(schema, table)])).rows[0].oid;
    const r = oid === null ? { rows: [] as Row[] } : await client.query(sqlFile('catalog/columns.sql'), [oid]);
    return r.rows.map((x: Row) => {
      const out: Row = {};
      for (const [k, v] of Object.entries(x)) out[k.replace(/_([a-z])/g, (_, ch: string) => ch.toUpperCase())] = v;
      return out as unknown as Column;
    });
  });
}

export interface Drift {
  /** on the source only: partwise adds them to the new table */
  added: Column[];
  /** differences partwise does not repair on its own, each with the statement that would */
  unhandled: Array<{ problem: string; fix: string }>;
  source: Column[];
  target: Column[];
}

export async function detectDrift(client: pg.ClientBase, cfg: Config): Promise<Drift> {
  const source = await readColumns(client, cfg.schema, cfg.table);
  const target = await readColumns(client, cfg.schema, cfg.newTable);
  const parent = qname(cfg.schema, cfg.newTable);
  const added = source.filter((c) => !target.some((t) => t.name === c.name));
  const unhandled: Drift['unhandled'] = [];
  for (const t of target) {
    const s = source.find((c) => c.name === t.name);
    if (!s) unhandled.push({ problem: `column ${t.name} was dropped from ${cfg.table}`, fix: `ALTER TABLE ${parent} DROP COLUMN ${ident(t.name)}` });
    else if (s.type !== t.type) unhandled.push({ problem: `column ${t.name} changed type: ${s.type} on ${cfg.table}, ${t.type} on ${cfg.newTable}`, fix: `ALTER TABLE ${parent} ALTER COLUMN ${ident(t.name)} TYPE ${s.type}` });
    else if (s.generated !== t.generated) unhandled.push({ problem: `column ${t.name} is generated on one side only`, fix: `partwise rollback, then partwise create` });
  }
  return { added, unhandled, source, target };
}

export function addColumnStatement(cfg: Config, c: Column): string {
  return `ALTER TABLE ${qname(cfg.schema, cfg.newTable)} ADD COLUMN ${columnDefinition(c)}`;
}

/**
 * Copies the values of newly added columns from the source into rows already in the new table (those copied or
 * replayed before the column existed there). Holds the capture lock: replay runs after it. Returns rows updated.
 */
export async function backfillColumns(client: pg.ClientBase, cfg: Config, columns: Column[], keyColumns: Column[]): Promise<number> {
  const cols = columns.filter((c) => c.generated === '');
  if (cols.length === 0) return 0;
  const set = cols.map((c) => `${ident(c.name)} = s.${ident(c.name)}`).join(', ');
  const match = [...keyColumns.map((c) => c.name), cfg.key].map((n) => `t.${ident(n)} = s.${ident(n)}`).join(' AND ');
  const differs = cols.map((c) => `t.${ident(c.name)} IS DISTINCT FROM s.${ident(c.name)}`).join(' OR ');
  return withTransaction(client, { settings: [['statement_timeout', '0']] }, async () => {
    await lockCapture(client, cfg, 'forward');
    const r = await client.query(
      `UPDATE ${qname(cfg.schema, cfg.newTable)} t SET ${set} FROM ONLY ${qname(cfg.schema, cfg.table)} s WHERE ${match} AND (${differs})`,
    );
    return r.rowCount ?? 0;
  });
}

/** A cheap fingerprint of both tables' live columns (one catalog query): detectDrift runs only when it changes. */
export async function columnsFingerprint(client: pg.ClientBase, cfg: Config): Promise<string> {
  const r = await client.query(
    `SELECT string_agg(a.attrelid::text || ':' || a.attname || ':' || a.atttypid || ':' || a.atttypmod || ':' || a.attgenerated::text, ',' ORDER BY a.attrelid, a.attnum) AS f
       FROM pg_attribute a WHERE a.attrelid IN (to_regclass($1), to_regclass($2)) AND a.attnum > 0 AND NOT a.attisdropped`,
    [qname(cfg.schema, cfg.table), qname(cfg.schema, cfg.newTable)],
  );
  return String(r.rows[0].f);
}
