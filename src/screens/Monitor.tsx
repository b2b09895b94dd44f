import React, { useState } from 'react';
import { Box, useInput } from 'ink';
import { Text } from './Text.js';
import { DEFAULT_ROWS_HINT } from '../monitor/sizeTable.js';
import { usePartitionSizes } from '../hooks/usePartitionSizes.js';
import { useWindowedList } from '../hooks/useWindowedList.js';
import { SizeTable, SORTS, sortRows, type SortColumn } from './SizeTable.js';
import { StepFrame } from './StepFrame.js';
import { actionFor, bodyHeight, nextHere, type ScreenProps } from './screenProps.js';
import { useTone } from './Theme.js';
import { noPartitionedTable } from '../registry/refusals.js';

/** 7 Monitor: the partition size table from the catalog, refreshed at the chosen interval without blocking the keys. */
export function Monitor(p: ScreenProps) {
  const { info, isActive, session } = p;
  const color = useTone();
  const monitor = usePartitionSizes(session, true);
  const [sort, setSort] = useState<SortColumn>('total size');
  const h = bodyHeight(p, 2) - 2 - (monitor.sizes?.defaultHasRows ? 1 : 0);
  const count = monitor.sizes?.rows.length ?? 0;
  const win = useWindowedList(count, Math.max(1, h - 4), { isActive, select: true });

  useInput(
    (input, key) => {
      const action = actionFor(info, input, key);
      if (action === 'interval') monitor.changeInterval(input === '+' ? 1 : -1);
      else if (action === 'refresh') monitor.refreshNow();
      else if (action === 'sort') setSort((s) => SORTS[(SORTS.indexOf(s) + 1) % SORTS.length]!);
      else if (action === 'count' && monitor.sizes) {
        const row = sortRows(monitor.sizes.rows, sort)[win.cursor];
        if (row) monitor.countExactly(row.schema, row.name);
      }
    },
    { isActive },
  );

  const s = monitor.sizes;
  return (
    <StepFrame info={info} view={p.view} next={nextHere(p)} run={p.run} height={p.height} action={null}>
      <Text wrap="truncate" color={color('dim')}>
        {s ? `${s.table ?? 'no partitioned table'} · read ${s.readAt.toISOString().slice(11, 19)}` : 'reading the catalog…'} · every {monitor.intervalMs / 1000} s (+/-) · sort: {sort} (o)
        {monitor.refreshing ? ' · refreshing' : ''}
      </Text>
      {monitor.error ? <Text color={color('fail')} wrap="truncate">✘ {monitor.error}</Text> : null}
      {s && !s.table ? <Text>{noPartitionedTable(p.migration, 'monitor')}</Text> : null}
      {s && s.table ? (
        <Box flexDirection="column">
          <SizeTable sizes={s} sort={sort} cursor={win.cursor} offset={win.offset} height={h} width={p.width} exact={monitor.exact} />
          {s.defaultHasRows ? <Text color={color('warn')} bold wrap="truncate">! {DEFAULT_ROWS_HINT}</Text> : null}
        </Box>
      ) : null}
    </StepFrame>
  );
}
