/**
 * Schema drift: the source's structure changing after create (columns are matched by name, never by position, and
 * are added to the copy's parent: docs/behaviours/insert-select-star-is-by-position.md,
 * docs/behaviours/columns-added-to-the-parent-only.md). migrate checks the columns' cheap fingerprint before every
 * batch and repairs the copy when it changes (src/steps/repairCopy.ts); a column added to the copy is back-filled from
 * the source, so rows copied or replayed before it existed get its value.
 */
import type pg from 'pg';
import type { Column } from '../catalog/types.js';
import type { Config } from '../config/config.js';
import { ident, qname } from '../db/quote.js';
import { withTransaction } from '../exec/transaction.js';
import { lockCapture } from './capture.js';

/**
 * Copies the values of these columns from the source into rows already in the new table (those copied or replayed
 * before the column existed there, or was retyped). Holds the capture lock: replay runs after it. Returns rows updated.
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
