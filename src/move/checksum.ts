/**
 * verify --data: per program, row count and an order-independent checksum of every stored column, on both sides in
 * one REPEATABLE READ snapshot of one session (docs/behaviours/text-form-follows-session-settings.md,
 * docs/behaviours/json-has-no-hash-function.md). sum() of 64-bit hashes as numeric: bit_xor would cancel duplicate
 * pairs. Keys still in the change log at that snapshot are left out on both sides: their replay is pending, so a
 * difference there is not a mismatch.
 */
import type pg from 'pg';
import type { Column, Snapshot } from '../catalog/types.js';
import type { Config } from '../config/config.js';
import { ident, qname } from '../db/quote.js';
import { withTransaction } from '../exec/transaction.js';
import { sqlFile } from '../sqlFiles.js';
import { captureNames, copiedColumns, originalTable, requireKeyColumns, type Direction } from './captureNames.js';
import type { StructureFingerprint } from './structure.js';

export interface ProgramComparison {
  /** key text; null for rows with a NULL key (they cannot be copied) */
  key: string | null;
  label: string | null;
  sourceRows: number;
  targetRows: number;
  sourceSum: string;
  targetSum: string;
  ok: boolean;
  /** a few primary keys (as row text) present on one side only or different */
  sample: Array<{ side: 'source' | 'new'; key: string }>;
}

export interface DataComparison {
  ok: boolean;
  /** columns of the source the copy lacks (or computes instead of storing): the copy is not equal, whatever the sums say */
  missingColumns: string[];
  programs: ProgramComparison[];
  /** change-log entries pending at the snapshot (their keys were left out) */
  pending: number;
  rowsCompared: number;
}

/** The per-row hash expression over alias `s`: hash_record_extended on PG14+, hashtext of the row text before. */
export async function rowHash(client: pg.ClientBase, columns: Array<Pick<Column, 'name' | 'typeOid'>>, versionNum: number): Promise<string> {
  if (versionNum < 140000) return `hashtext(ROW(${columns.map((c) => `s.${ident(c.name)}`).join(', ')})::text)::numeric`;
  const r = await client.query<{ type_oid: string; hashable: boolean }>(sqlFile('checksum/hashable.sql'), [columns.map((c) => c.typeOid)]);
  const hashable = new Map(r.rows.map((x) => [Number(x.type_oid), x.hashable]));
  const parts = columns.map((c) => `s.${ident(c.name)}${hashable.get(Number(c.typeOid)) ? '' : '::text'}`);
  return `hash_record_extended(ROW(${parts.join(', ')}), 0)::numeric`;
}

/**
 * Compares the table the application writes with the one replay fills: before the swap (forward) the source and the
 * new table, after it (reverse) the partitioned table and the original. `onlyKey`: one program (gradual mode).
 * Runs its own REPEATABLE READ transaction.
 */
export function compareData(client: pg.ClientBase, snap: Snapshot, cfg: Config, onlyKey?: string, direction: Direction = 'forward'): Promise<DataComparison> {
  const original = originalTable(snap, direction);
  const keyCols = requireKeyColumns(original);
  const columns = copiedColumns(snap, direction);
  // every stored column must be on both sides: one the other side lacks is a difference, never left out of the sums
  const missingColumns = original.columns
    .filter((c) => c.generated === '' && !columns.some((x) => x.name === c.name))
    .map((c) => c.name);
  const keyCol = original.columns.find((c) => c.name === cfg.key)!;
  const names = captureNames(cfg, direction);
  const log = names.logQ;
  const k = `s.${ident(cfg.key)}`;
  const src = direction === 'forward' ? `ONLY ${names.on}` : names.on;
  const tgt = names.into;
  const pkRow = `ROW(${keyCols.map((c) => `s.${ident(c.name)}`).join(', ')})`;
  const labels = new Map(snap.lookupRows.map((r) => [r.key, r.label]));

  return withTransaction(client, { isolation: 'repeatable read', readOnly: true, settings: [['statement_timeout', '0']] }, async () => {
    const logExists = (await client.query(`SELECT to_regclass($1) IS NOT NULL AS ok`, [log])).rows[0].ok as boolean;
    const pending = logExists ? Number((await client.query(`SELECT count(*)::int8 AS n FROM ${log}`)).rows[0].n) : 0;
    const notPending = logExists
      ? `NOT EXISTS (SELECT 1 FROM ${log} l WHERE (${keyCols.map((_, i) => `l.k${i + 1}`).join(', ')}) = (${keyCols.map((c) => `s.${ident(c.name)}`).join(', ')}))`
      : 'true';
    const hash = await rowHash(client, columns, snap.server.versionNum);
    const only = onlyKey === undefined ? '' : ` AND ${k} = $1::${keyCol.type}`;
    const params = onlyKey === undefined ? [] : [onlyKey];
    const agg = (from: string) =>
      `SELECT ${k}::text AS k, count(*)::int8 AS n, coalesce(sum(${hash}), 0)::text AS h FROM ${from} s WHERE ${notPending}${only} GROUP BY 1`;
    const [a, b] = [await client.query(agg(src), params), await client.query(agg(tgt), params)];
    const sideS = new Map(a.rows.map((r) => [r.k as string | null, { n: Number(r.n), h: String(r.h) }]));
    const sideT = new Map(b.rows.map((r) => [r.k as string | null, { n: Number(r.n), h: String(r.h) }]));
    const keys = new Set<string | null>([...sideS.keys(), ...sideT.keys()]);
    if (onlyKey !== undefined) keys.add(onlyKey);
    const programs: ProgramComparison[] = [];
    for (const key of keys) {
      const s = sideS.get(key) ?? { n: 0, h: '0' };
      const t = sideT.get(key) ?? { n: 0, h: '0' };
      const ok = key !== null && s.n === t.n && s.h === t.h;
      const sample: ProgramComparison['sample'] = [];
      if (!ok) {
        const where = key === null ? `${k} IS NULL` : `${k} = $1::${keyCol.type}`;
        const p = key === null ? [] : [key];
        const rows = (from: string) => `SELECT ${pkRow}::text AS pk, ${hash} AS h FROM ${from} s WHERE ${where} AND ${notPending}`;
        const diff = await client.query<{ side: 'source' | 'new'; pk: string }>(
          `(SELECT 'source' AS side, pk FROM (${rows(src)} EXCEPT ${rows(tgt)}) x ORDER BY pk LIMIT 5)
           UNION ALL (SELECT 'new' AS side, pk FROM (${rows(tgt)} EXCEPT ${rows(src)}) y ORDER BY pk LIMIT 5)`,
          p,
        );
        for (const r of diff.rows) sample.push({ side: r.side, key: r.pk });
      }
      programs.push({ key, label: key === null ? null : labels.get(key) ?? null, sourceRows: s.n, targetRows: t.n, sourceSum: s.h, targetSum: t.h, ok, sample });
    }
    const order = new Map(snap.lookupRows.map((r, i) => [r.key, i]));
    programs.sort((x, y) => (order.get(x.key ?? '') ?? 1e9) - (order.get(y.key ?? '') ?? 1e9) || String(x.key).localeCompare(String(y.key)));
    const ok = missingColumns.length === 0 && programs.every((p) => p.ok);
    return { ok, missingColumns, programs, pending, rowsCompared: programs.reduce((n, p) => n + p.sourceRows, 0) };
  });
}

export interface DataVerification {
  verifiedAt: string;
  ok: boolean;
  programs: number;
  rowsCompared: number;
  pending: number;
  /** null for a verification journaled by an older partwise */
  structure: StructureFingerprint | null;
}

/**
 * Journals a verify --data result with the structure it saw (swap refuses unless the latest one is ok and the
 * structure is still the same), in one transaction.
 */
export function recordDataVerification(client: pg.ClientBase, migrationId: number, c: DataComparison, structure: StructureFingerprint): Promise<void> {
  const mismatches = [
    ...c.missingColumns.map((name) => ({ missingColumn: name })),
    ...c.programs.filter((p) => !p.ok).map((p) => ({ key: p.key, label: p.label, sourceRows: p.sourceRows, targetRows: p.targetRows, sample: p.sample })),
  ];
  return withTransaction(client, {}, async () => {
    const r = await client.query<{ id: string }>(
      `INSERT INTO partwise.data_verification (migration_id, ok, programs, rows_compared, pending, mismatches) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
      [migrationId, c.ok, c.programs.length, c.rowsCompared, c.pending, JSON.stringify(mismatches)],
    );
    await client.query(`INSERT INTO partwise.verified_structure (verification_id, fingerprint) VALUES ($1, $2)`, [r.rows[0]!.id, JSON.stringify(structure)]);
  });
}

/** The latest verify --data result for this table, or null if never verified. */
export async function latestDataVerification(client: pg.ClientBase, cfg: Config): Promise<DataVerification | null> {
  // both written by the same journal.sql (Journal.open)
  const exists = await client.query(`SELECT to_regclass('partwise.data_verification') IS NOT NULL AND to_regclass('partwise.verified_structure') IS NOT NULL AS ok`);
  if (!exists.rows[0].ok) return null;
  const r = await client.query(
    `SELECT v.verified_at, v.ok, v.programs, v.rows_compared, v.pending, s.fingerprint FROM partwise.data_verification v
       JOIN partwise.migration m ON m.id = v.migration_id LEFT JOIN partwise.verified_structure s ON s.verification_id = v.id
      WHERE m.source_schema = $1 AND m.source_table = $2
      ORDER BY v.id DESC LIMIT 1`,
    [cfg.schema, cfg.table],
  );
  const x = r.rows[0];
  return x
    ? { verifiedAt: new Date(x.verified_at).toISOString(), ok: x.ok, programs: x.programs, rowsCompared: Number(x.rows_compared), pending: Number(x.pending), structure: x.fingerprint ?? null }
    : null;
}
