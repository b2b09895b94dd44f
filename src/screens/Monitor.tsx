import React, { useState } from 'react';
import { Box, useInput } from 'ink';
import { Wrapped } from './Text.js';
import { ARCHIVED_DEFAULT_HINT, archivedLines, DEFAULT_ROWS_HINT } from '../monitor/sizeTable.js';
import { defaultArchivePath } from '../archive/manifest.js';
import { usePartitionSizes, type PartitionSizesView } from '../hooks/usePartitionSizes.js';
import { useWindowedList, type ListWindow } from '../hooks/useWindowedList.js';
import { SizeTable, SORTS, sortRows, tableRows, type SortColumn } from './SizeTable.js';
import { StepFrame } from './StepFrame.js';
import { actionFor, bodyHeight, nextHere, type ScreenProps } from './screenProps.js';
import { useTone } from './Theme.js';
import { noPartitionedTable } from '../registry/refusals.js';
import { wrapLines } from '../text/wrap.js';

/** The rows the size table gets on the monitor screen: the screen's body less the header line and the hint. */
type Sizing = Pick<ScreenProps, 'height' | 'width' | 'info' | 'view' | 'migration' | 'run'>;
type Reading = Pick<PartitionSizesView, 'sizes' | 'error' | 'refreshing' | 'intervalMs' | 'exact'>;

/** The line above the table: what is measured, when it was read, how often, the sort (the keys are in the footer). */
function headText(m: Reading, sort: SortColumn): string {
  const s = m.sizes;
  const read = s ? `${s.table ?? 'no partitioned table'} · read ${s.readAt.toISOString().slice(11, 19)}` : 'reading the catalog…';
  return `${read}${m.refreshing ? ' (refreshing)' : ''} · every ${m.intervalMs / 1000} s · sort: ${sort}`;
}

/** The default partition's hint: with archived programs its rows may be theirs. */
function defaultHint(p: Pick<ScreenProps, 'migration'>): string {
  return `! ${p.migration.archived.length ? ARCHIVED_DEFAULT_HINT : DEFAULT_ROWS_HINT}`;
}

/** The rows the size table gets: the screen's body less the head line, the archived programs and the default partition's hint, wrapped. */
function tableHeight(p: Sizing, m: Reading, sort: SortColumn): number {
  const rows = (text: string) => wrapLines(text, p.width).length;
  const archived = archivedLines({ archived: p.migration.archived }).reduce((n, l) => n + rows(l), 0);
  return bodyHeight(p, 0) - rows(headText(m, sort)) - (m.error ? rows(`✘ ${m.error}`) : 0) - archived - (m.sizes?.defaultHasRows ? rows(defaultHint(p)) : 0);
}

/** 7 Monitor: the partition size table from the catalog, refreshed at the chosen interval without blocking the keys. */
export function Monitor(p: ScreenProps) {
  const { info, isActive, session } = p;
  const monitor = usePartitionSizes(session, true);
  const [sort, setSort] = useState<SortColumn>('total size');
  const h = tableHeight(p, monitor, sort);
  const count = monitor.sizes?.rows.length ?? 0;
  const win = useWindowedList(count, tableRows(h), { isActive, select: true });

  useInput(
    (input, key) => {
      const action = actionFor(info, input, key);
      if (action === 'interval') monitor.changeInterval(input === '+' ? 1 : -1);
      else if (action === 'refresh') monitor.refreshNow();
      else if (action === 'sort') setSort((s) => SORTS[(SORTS.indexOf(s) + 1) % SORTS.length]!);
      else if (action === 'count' && monitor.sizes) {
        const row = sortRows(monitor.sizes.rows, sort)[win.cursor];
        if (row) monitor.countExactly(row.schema, row.name);
      } else if (action === 'archive' && monitor.sizes && !session.readOnly) {
        const row = sortRows(monitor.sizes.rows, sort)[win.cursor];
        if (!row) return;
        if (row.keyValue === null) p.request({ command: 'archive', notice: `${row.name} is not one program's partition: archive works on a program's partition` });
        else p.request({ command: 'archive', step: 'monitor', confirmText: { typed: row.name, what: 'the partition name' }, flags: { program: `key:${row.keyValue}`, to: defaultArchivePath(row.name, new Date()) } });
      }
    },
    { isActive },
  );
  return <MonitorView {...p} monitor={monitor} sort={sort} window={win} />;
}

export type MonitorViewProps = Omit<ScreenProps, 'session' | 'request' | 'busy' | 'health'> & {
  monitor: Reading;
  sort: SortColumn;
  window: Pick<ListWindow, 'cursor' | 'offset'>;
};

/** The monitor screen from plain values: the sizes read, the sort, the selected row (no database, no timers). */
export function MonitorView(p: MonitorViewProps) {
  const { info, monitor, sort } = p;
  const color = useTone();
  const s = monitor.sizes;
  const h = tableHeight(p, monitor, sort);
  return (
    <StepFrame info={info} width={p.width} view={p.view} next={nextHere(p)} run={p.run} height={p.height} action={null}>
      <Wrapped text={headText(monitor, sort)} width={p.width} color={color('dim')} />
      {monitor.error ? <Wrapped text={`✘ ${monitor.error}`} width={p.width} color={color('fail')} /> : null}
      {s && !s.table ? <Wrapped text={noPartitionedTable(p.migration, 'monitor')} width={p.width} /> : null}
      {s && s.table ? (
        <Box flexDirection="column">
          <SizeTable sizes={s} sort={sort} cursor={p.window.cursor} offset={p.window.offset} height={h} width={p.width} exact={monitor.exact} />
          {archivedLines({ archived: p.migration.archived }).map((l) => <Wrapped key={l} text={l} width={p.width} color={color('dim')} />)}
          {s.defaultHasRows ? <Wrapped text={defaultHint(p)} width={p.width} color={color('warn')} bold /> : null}
        </Box>
      ) : null}
    </StepFrame>
  );
}
