import { formatBytes } from '../format.js';
import type { PartitionSizes } from './partitionSizes.js';

/**
 * The hint shown whenever the default partition holds rows
 * (docs/behaviours/rows-without-a-partition-go-to-the-default.md).
 */
export const DEFAULT_ROWS_HINT = 'the default partition holds rows: a partition is missing for them; run partwise maintain --yes';

/** The partition size query found neither the partitioned copy nor a partitioned table of that name. */
export const NO_PARTITIONED_TABLE = 'neither the table nor its partitioned copy is a partitioned table (check --schema and --table; before create there is nothing to show)';

/** With archived programs, rows in the default partition may be theirs (maintain leaves those, restore moves them). */
export const ARCHIVED_DEFAULT_HINT = 'the default partition holds rows: new rows of archived programs (partwise restore brings them back with their partition), or a missing partition (partwise maintain --yes)';

/** One line per archived program: no partition on purpose; where its file is. */
export function archivedLines(s: Pick<PartitionSizes, 'archived'>): string[] {
  return (s.archived ?? []).map((a) => `archived: ${a.label ?? a.program} (${a.program}) in ${a.path}; its new rows go to the default partition`);
}

const when = (d: Date | null) => (d ? d.toISOString().slice(0, 16).replace('T', ' ') : '-');

/** The bound's value list without the `FOR VALUES IN (...)` wrapper, for narrow columns. */
export function boundValues(bound: string): string {
  const m = /^FOR VALUES IN \((.*)\)$/s.exec(bound);
  return m ? m[1]! : bound;
}

export interface SizeTableLine {
  text: string;
  /** the default partition holding rows, or the hint: shown in a warning color */
  warn: boolean;
}

/** The headless monitor table: aligned columns, a totals row, the default partition flagged when it holds rows. */
export function partitionSizeLines(s: PartitionSizes): SizeTableLine[] {
  if (!s.table) return [{ text: NO_PARTITIONED_TABLE, warn: false }];
  const header = ['partition', 'program', 'bound', 'est. rows', 'table', 'indexes', 'total', 'share', 'last analyze', 'scans seq/idx'];
  const right = new Set([3, 4, 5, 6, 7]);
  const body = s.rows.map((p) => [
    p.name + (p.isDefault && p.hasRows ? ' (!)' : ''),
    p.label ?? (p.isDefault ? '(default)' : '-'),
    boundValues(p.bound),
    p.estimatedRows === null ? 'unknown' : String(Math.round(p.estimatedRows)),
    formatBytes(p.tableBytes),
    formatBytes(p.indexBytes),
    formatBytes(p.totalBytes),
    `${(p.share * 100).toFixed(1)}%`,
    when(latest(p.lastAnalyze, p.lastAutoanalyze)),
    `${p.seqScan ?? '-'}/${p.idxScan ?? '-'}`,
  ]);
  const t = s.totals;
  const total = [
    `total (${t.partitions})`, '', '', `${Math.round(t.estimatedRows)}${t.neverAnalyzed ? ` +${t.neverAnalyzed} unknown` : ''}`,
    formatBytes(t.tableBytes), formatBytes(t.indexBytes), formatBytes(t.totalBytes), t.totalBytes ? '100%' : '-', '', `${t.seqScan}/${t.idxScan}`,
  ];
  const all = [header, ...body, total];
  const widths = header.map((_, i) => Math.max(...all.map((r) => [...r[i]!].length)));
  const line = (r: string[]) => r.map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const out: SizeTableLine[] = [{ text: `${s.table}: ${t.partitions} partition(s)`, warn: false }, { text: line(header), warn: false }];
  s.rows.forEach((p, i) => out.push({ text: line(body[i]!), warn: p.isDefault && p.hasRows === true }));
  out.push({ text: line(total), warn: false });
  out.push(...archivedLines(s).map((text) => ({ text, warn: false })));
  if (s.defaultHasRows) out.push({ text: s.archived?.length ? ARCHIVED_DEFAULT_HINT : DEFAULT_ROWS_HINT, warn: true });
  return out;
}

function latest(a: Date | null, b: Date | null): Date | null {
  if (!a) return b;
  if (!b) return a;
  return a > b ? a : b;
}
