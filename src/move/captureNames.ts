import type { Config } from '../config/config.js';
import { fitIdentifier } from '../config/names.js';
import { ident, qname } from '../db/quote.js';
import type { Column, Snapshot, TableInfo } from '../catalog/types.js';

export type Direction = 'forward' | 'reverse';

/** Names of the capture machinery of one direction; the log and function live in schema partwise. */
export function captureNames(cfg: Config, direction: Direction) {
  const base = `${direction}_${cfg.schema}_${cfg.table}`;
  return {
    log: fitIdentifier(`capture_log_${base}`),
    fn: fitIdentifier(`capture_${base}`),
    rowTrigger: `partwise_capture_${direction}`,
    truncateTrigger: `partwise_capture_${direction}_truncate`,
    /** the table the triggers are on: always the name the application uses */
    on: qname(cfg.schema, cfg.table),
    /** where replay writes */
    into: qname(cfg.schema, direction === 'forward' ? cfg.newTable : cfg.oldTable),
    logQ: `partwise.${ident(fitIdentifier(`capture_log_${base}`))}`,
    fnQ: `partwise.${ident(fitIdentifier(`capture_${base}`))}`,
  };
}

/**
 * The original table (whose primary key capture logs): the source before the swap; after it, the renamed original
 * (snap.old). A snapshot taken before the swap can be used for either direction.
 */
export function originalTable(snap: Snapshot, direction: Direction): TableInfo {
  const t = direction === 'reverse' && snap.old ? snap.old : snap.source;
  if (!t) throw new Error('change capture needs the source table in the snapshot');
  return t;
}

/** The other side of the copy, when the snapshot shows it. */
function otherTable(snap: Snapshot, direction: Direction): TableInfo | null {
  if (direction === 'reverse' && snap.old) return snap.source;
  return snap.target;
}

/** Columns capture logs to identify a row: the PRIMARY KEY, else a UNIQUE constraint on NOT NULL columns. */
export function captureKeyColumns(table: TableInfo): Column[] | null {
  const cons = table.constraints.filter((c) => !c.inherited);
  const pk = cons.find((c) => c.type === 'p');
  const pick = pk ?? cons.find((c) => c.type === 'u' && c.columns.every((n) => table.columns.find((x) => x.name === n)?.notNull));
  if (!pick) return null;
  return pick.columns.map((n) => table.columns.find((c) => c.name === n)!);
}

export function requireKeyColumns(table: TableInfo): Column[] {
  const cols = captureKeyColumns(table);
  if (!cols) throw new Error(`${table.schema}.${table.name} has no PRIMARY KEY and no UNIQUE constraint on NOT NULL columns: change capture cannot identify its rows`);
  return cols;
}

/**
 * Live, non-generated columns (docs/behaviours/generated-columns-not-insertable.md,
 * docs/behaviours/insert-select-star-is-by-position.md): present in the original and, when known, in the other table.
 */
export function copiedColumns(snap: Snapshot, direction: Direction): Column[] {
  const other = otherTable(snap, direction);
  return originalTable(snap, direction).columns.filter(
    (c) => c.generated === '' && (!other || other.columns.some((o) => o.name === c.name && o.generated === '')),
  );
}
