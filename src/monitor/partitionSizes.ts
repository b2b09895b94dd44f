import type pg from 'pg';
import type { Config } from '../config/config.js';
import { lit, qname } from '../db/quote.js';
import { sqlTemplate } from '../sqlFiles.js';
import type { ArchivedProgram } from '../archive/records.js';

/** One leaf partition as the monitor shows it. */
export interface PartitionSizeRow {
  oid: number;
  schema: string;
  name: string;
  /** pg_get_expr(relpartbound): `FOR VALUES IN (...)` or `DEFAULT` */
  bound: string;
  isDefault: boolean;
  /** the lookup key whose expected bound equals this partition's bound; null for the default and for strays */
  keyValue: string | null;
  label: string | null;
  /**
   * the rows now, estimated as the planner does: the last analyze's rows per page times the pages the heap has now (0
   * for an empty heap); null when there is no density to scale (never analyzed, or analyzed empty and filled since)
   */
  estimatedRows: number | null;
  /** reltuples: the rows counted by the last ANALYZE or VACUUM (null: never) */
  analyzedRows: number | null;
  tableBytes: number;
  indexBytes: number;
  totalBytes: number;
  /** totalBytes / the sum over all partitions (0 when everything is empty) */
  share: number;
  lastAnalyze: Date | null;
  lastAutoanalyze: Date | null;
  seqScan: number | null;
  idxScan: number | null;
  /** only for the default partition: whether it holds any row (a missing partition, `partwise maintain` fixes it) */
  hasRows: boolean | null;
}

export interface PartitionSizeTotals {
  partitions: number;
  /** sum of the partitions' estimates */
  estimatedRows: number;
  /** partitions without an estimate (their rows are not in estimatedRows) */
  neverAnalyzed: number;
  tableBytes: number;
  indexBytes: number;
  totalBytes: number;
  seqScan: number;
  idxScan: number;
}

export interface PartitionSizes {
  /** schema.name of the partitioned table measured; null when none exists yet */
  table: string | null;
  rows: PartitionSizeRow[];
  totals: PartitionSizeTotals;
  defaultHasRows: boolean;
  /** programs archived (partwise archive): no partition on purpose, their new rows go to the default partition.
   * Read by the caller (headless monitor: the journal; the app: the migration state), not by the one sizes query. */
  archived?: ArchivedProgram[];
  readAt: Date;
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** The monitor's query with the lookup table's names quoted in (the only parts that cannot be parameters). */
export function partitionSizesSql(cfg: Config): string {
  const values: Record<string, string> = {
    lookup: qname(cfg.lookupSchema, cfg.lookup),
    lookup_key: lit(cfg.lookupKey),
    lookup_label: lit(cfg.lookupLabel),
  };
  return sqlTemplate('monitor/partition_sizes.sql', values);
}

/**
 * Every leaf partition of the partitioned table (the new table before the swap, the source after it) with sizes,
 * estimates, activity and label, in one catalog query whatever the number of partitions; totals computed here.
 */
export async function readPartitionSizes(client: pg.ClientBase, cfg: Config): Promise<PartitionSizes> {
  const r = await client.query(partitionSizesSql(cfg), [qname(cfg.schema, cfg.table), qname(cfg.schema, cfg.newTable)]);
  const rows: PartitionSizeRow[] = r.rows.map((x) => ({
    oid: Number(x.oid),
    schema: x.schema,
    name: x.name,
    bound: x.bound,
    isDefault: x.is_default === true,
    keyValue: x.key_value ?? null,
    label: x.label ?? null,
    estimatedRows: num(x.estimated_rows),
    analyzedRows: num(x.analyzed_rows),
    tableBytes: Number(x.table_bytes),
    indexBytes: Number(x.index_bytes),
    totalBytes: Number(x.total_bytes),
    share: 0,
    lastAnalyze: x.last_analyze ?? null,
    lastAutoanalyze: x.last_autoanalyze ?? null,
    seqScan: num(x.seq_scan),
    idxScan: num(x.idx_scan),
    hasRows: x.has_rows ?? null,
  }));
  const totals: PartitionSizeTotals = {
    partitions: rows.length, estimatedRows: 0, neverAnalyzed: 0, tableBytes: 0, indexBytes: 0, totalBytes: 0, seqScan: 0, idxScan: 0,
  };
  for (const p of rows) {
    if (p.estimatedRows === null) totals.neverAnalyzed++;
    else totals.estimatedRows += p.estimatedRows;
    totals.tableBytes += p.tableBytes;
    totals.indexBytes += p.indexBytes;
    totals.totalBytes += p.totalBytes;
    totals.seqScan += p.seqScan ?? 0;
    totals.idxScan += p.idxScan ?? 0;
  }
  for (const p of rows) p.share = totals.totalBytes > 0 ? p.totalBytes / totals.totalBytes : 0;
  return {
    table: r.rows[0]?.parent_name ?? null,
    rows,
    totals,
    defaultHasRows: rows.some((p) => p.isDefault && p.hasRows === true),
    readAt: new Date(),
  };
}

/** The exact row count of one partition (on request: it reads the whole partition). */
export async function exactRowCount(client: pg.ClientBase, schema: string, partition: string): Promise<number> {
  const r = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${qname(schema, partition)}`);
  return Number(r.rows[0]!.n);
}
