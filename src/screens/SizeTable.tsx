import React from 'react';
import { Box } from 'ink';
import { Text } from './Text.js';
import { formatBytes } from '../format.js';
import type { PartitionSizeRow, PartitionSizes } from '../monitor/partitionSizes.js';
import { boundValues } from '../monitor/sizeTable.js';
import { selectedMark, useTone } from './Theme.js';

export const SORTS = ['total size', 'rows', 'name', 'seq scans'] as const;
export type SortColumn = (typeof SORTS)[number];

/** Which column each sort orders by, and its direction: names ascending, the measures largest first. */
const SORTED_COLUMN: Record<SortColumn, { title: string; arrow: '▲' | '▼' }> = {
  'total size': { title: 'total', arrow: '▼' },
  rows: { title: 'est. rows', arrow: '▼' },
  name: { title: 'partition', arrow: '▲' },
  'seq scans': { title: 'seq/idx scans', arrow: '▼' },
};

export function sortRows(rows: PartitionSizeRow[], by: SortColumn): PartitionSizeRow[] {
  const copy = [...rows];
  if (by === 'name') return copy.sort((a, b) => a.name.localeCompare(b.name));
  const value = (r: PartitionSizeRow) => (by === 'total size' ? r.totalBytes : by === 'rows' ? (r.estimatedRows ?? -1) : (r.seqScan ?? -1));
  return copy.sort((a, b) => value(b) - value(a) || a.name.localeCompare(b.name));
}

interface Column {
  title: string;
  right?: boolean;
  /** columns are dropped from the highest priority number down when the terminal is narrow */
  priority: number;
  cell(r: PartitionSizeRow): string;
  total(s: PartitionSizes): string;
}

const when = (d: Date | null) => (d ? new Date(d).toISOString().slice(5, 16).replace('T', ' ') : '-');
const latest = (a: Date | null, b: Date | null) => (!a ? b : !b ? a : a > b ? a : b);

function columns(exact: Record<string, number | 'counting'>): Column[] {
  return [
    { title: 'partition', priority: 0, cell: (r) => r.name + (r.isDefault && r.hasRows ? ' (!)' : ''), total: (s) => `total (${s.totals.partitions})` },
    { title: 'program', priority: 0, cell: (r) => r.label ?? (r.isDefault ? '(default)' : '-'), total: () => '' },
    {
      title: 'est. rows', right: true, priority: 0,
      cell: (r) => {
        const x = exact[r.name];
        if (x === 'counting') return 'counting…';
        if (typeof x === 'number') return `${x.toLocaleString('en-US')} =`;
        return r.estimatedRows === null ? 'unknown' : `~${Math.round(r.estimatedRows).toLocaleString('en-US')}`;
      },
      total: (s) => (s.totals.neverAnalyzed === s.totals.partitions && s.totals.partitions > 0 ? 'unknown' : `~${Math.round(s.totals.estimatedRows).toLocaleString('en-US')}${s.totals.neverAnalyzed ? ` (+${s.totals.neverAnalyzed} unknown)` : ''}`),
    },
    { title: 'total', right: true, priority: 0, cell: (r) => formatBytes(r.totalBytes), total: (s) => formatBytes(s.totals.totalBytes) },
    { title: 'share', right: true, priority: 1, cell: (r) => `${(r.share * 100).toFixed(1)}%`, total: (s) => (s.totals.totalBytes ? '100%' : '-') },
    { title: 'table', right: true, priority: 2, cell: (r) => formatBytes(r.tableBytes), total: (s) => formatBytes(s.totals.tableBytes) },
    { title: 'indexes', right: true, priority: 2, cell: (r) => formatBytes(r.indexBytes), total: (s) => formatBytes(s.totals.indexBytes) },
    { title: 'seq/idx scans', right: true, priority: 3, cell: (r) => `${r.seqScan ?? '-'}/${r.idxScan ?? '-'}`, total: (s) => `${s.totals.seqScan}/${s.totals.idxScan}` },
    { title: 'analyzed', priority: 4, cell: (r) => when(latest(r.lastAnalyze, r.lastAutoanalyze)), total: () => '' },
    { title: 'bound', priority: 5, cell: (r) => boundValues(r.bound), total: () => '' },
  ];
}

/** The partitions a table of `height` rows shows: less its header, its totals and the line saying where it is. */
export const tableRows = (height: number) => Math.max(1, height - 3);

/** The names shrink to these before the share column goes (a narrower name cannot tell partitions apart)… */
const MIN_NAME = 20;
const MIN_LABEL = 12;
/** …and to these before the other measures go: names matter more than table / index sizes, scans and analyze times */
const COMFORTABLE_NAME = 56;
const COMFORTABLE_LABEL = 40;
const clip = (s: string, w: number) => ([...s].length > w ? `${[...s].slice(0, w - 1).join('')}…` : s);

interface Sized extends Column {
  width: number;
  /** the width that shows every visible cell whole */
  natural: number;
}

/**
 * Column widths for `width` terminal columns: the measures at their natural width; the lower-priority ones dropped
 * while the names cannot have a comfortable width, the share only when even the narrowest names do not fit; then
 * the room left shared by the partition and program names, up to what their longest visible cell needs. Names
 * therefore grow with the terminal, and at 80 columns both stay.
 */
export function layoutColumns(all: Column[], sizes: PartitionSizes, visible: PartitionSizeRow[], width: number): Sized[] {
  const sep = 2;
  const room = width - 2; // the selection mark and its space
  let cols: Sized[] = all.map((c) => {
    const natural = Math.max(c.title.length + 1, [...c.total(sizes)].length, ...visible.map((r) => [...c.cell(r)].length));
    return { ...c, natural, width: natural };
  });
  const nameWidth = (c: Sized, name: number, label: number) => (c.title === 'partition' ? Math.min(c.natural, name) : c.title === 'program' ? Math.min(c.natural, label) : c.natural);
  const needs = (cs: Sized[], name: number, label: number) => cs.reduce((w, c) => w + nameWidth(c, name, label), 0) + sep * (cs.length - 1);
  for (let prio = 5; prio > 1 && needs(cols, COMFORTABLE_NAME, COMFORTABLE_LABEL) > room; prio--) cols = cols.filter((c) => c.priority < prio);
  if (needs(cols, MIN_NAME, MIN_LABEL) > room) cols = cols.filter((c) => c.priority < 1);
  for (const c of cols) c.width = nameWidth(c, MIN_NAME, MIN_LABEL);
  // the room left goes to the names: half each, then what one does not need to the other
  const names = cols.filter((c) => c.title === 'partition' || c.title === 'program');
  let left = room - needs(cols, MIN_NAME, MIN_LABEL);
  for (const pass of [0, 1]) {
    const each = pass === 0 ? Math.floor(left / Math.max(1, names.length)) : left;
    for (const c of names) {
      const grow = Math.max(0, Math.min(c.natural - c.width, pass === 0 ? each : left));
      c.width += grow;
      left -= grow;
    }
  }
  return cols;
}

/**
 * The partition size table (see README "Why not ink-table"): aligned columns, only the visible window of rows
 * rendered, the selected row marked (› and inverse), the default partition in the warning color when it holds rows,
 * a totals row.
 */
export function SizeTable({ sizes, sort, cursor, offset, height, width, exact }: {
  sizes: PartitionSizes; sort: SortColumn; cursor: number; offset: number; height: number; width: number; exact: Record<string, number | 'counting'>;
}) {
  const color = useTone();
  const rows = sortRows(sizes.rows, sort);
  const rowsVisible = tableRows(height);
  const start = Math.max(0, Math.min(offset, Math.max(0, rows.length - rowsVisible)));
  const visible = rows.slice(start, start + rowsVisible);
  // widths from the visible rows only: the cost stays the same with 10 or 10,000 partitions
  const cols = layoutColumns(columns(exact), sizes, visible, width);
  const line = (cells: string[], selected = false) => `${selectedMark(selected)} ` + cells.map((v, i) => (cols[i]!.right ? clip(v, cols[i]!.width).padStart(cols[i]!.width) : clip(v, cols[i]!.width).padEnd(cols[i]!.width))).join('  ');
  return (
    <Box flexDirection="column">
      <Text bold wrap="truncate">{line(cols.map((c) => (c.title === SORTED_COLUMN[sort].title ? `${c.title}${SORTED_COLUMN[sort].arrow}` : c.title)))}</Text>
      {visible.map((r, i) => (
        <Text key={r.oid} wrap="truncate" inverse={start + i === cursor} color={color(r.isDefault && r.hasRows ? 'warn' : undefined)} bold={r.isDefault && r.hasRows === true}>
          {line(cols.map((c) => c.cell(r)), start + i === cursor)}
        </Text>
      ))}
      {rows.length > rowsVisible ? (
        <Text color={color('dim')}>{`  rows ${start + 1}-${start + visible.length} of ${rows.length} (j/k, PgUp/PgDn, g/G)`}</Text>
      ) : null}
      <Text bold wrap="truncate">{line(cols.map((c) => c.total(sizes)))}</Text>
    </Box>
  );
}
