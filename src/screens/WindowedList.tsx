import React from 'react';
import { Box } from 'ink';
import { Text } from './Text.js';
import { useTone } from './Theme.js';

export interface WindowedListProps<T> {
  items: T[];
  offset: number;
  /** rows available, including the two "more" lines */
  height: number;
  render: (item: T, index: number) => React.ReactNode;
  itemKey: (item: T, index: number) => string;
}

/** The items a WindowedList of `height` rows shows at once (the other two rows say what is above and below). */
export const listRows = (height: number) => Math.max(1, height - 2);

/** Renders only the rows that fit (never all of them), with a line saying how many are above and below. */
export function WindowedList<T>({ items, offset, height, render, itemKey }: WindowedListProps<T>) {
  const color = useTone();
  const rows = listRows(height);
  const start = Math.max(0, Math.min(offset, Math.max(0, items.length - rows)));
  const visible = items.slice(start, start + rows);
  const above = start;
  const below = Math.max(0, items.length - start - visible.length);
  return (
    <Box flexDirection="column">
      {items.length > rows ? <Text color={color('dim')}>{above ? `  ↑ ${above} more (k, PgUp, g)` : ' '}</Text> : null}
      {visible.map((item, i) => (
        <Box key={itemKey(item, start + i)}>{render(item, start + i)}</Box>
      ))}
      {items.length > rows ? <Text color={color('dim')}>{below ? `  ↓ ${below} more (j, PgDn, G)` : ' '}</Text> : null}
    </Box>
  );
}
