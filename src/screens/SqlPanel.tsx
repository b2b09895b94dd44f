import React from 'react';
import { Box } from 'ink';
import { SqlText, Text } from './Text.js';
import { useWindowedList } from '../hooks/useWindowedList.js';
import { WindowedList } from './WindowedList.js';
import { useTone } from './Theme.js';

/** The exact SQL of a step, scrollable; `s` toggles it. Lines are cut at the edge, never wrapped, so the height holds. */
export function SqlPanel({ sql, height, isActive }: { sql: string | null; height: number; isActive: boolean }) {
  const color = useTone();
  const lines = sql === null ? [] : sql.split('\n');
  const win = useWindowedList(lines.length, height - 3, { isActive });
  return (
    <Box flexDirection="column" height={height} overflowY="hidden">
      <Text bold>SQL <Text color={color('dim')}>(s hides it; {lines.length} lines)</Text></Text>
      {sql === null ? (
        <Text color={color('dim')}>planning…</Text>
      ) : (
        <WindowedList
          items={lines}
          offset={win.offset}
          height={height - 1}
          itemKey={(_, i) => String(i)}
          render={(l) => <SqlText wrap="truncate" color={l.startsWith('--') ? color('dim') : undefined}>{l || ' '}</SqlText>}
        />
      )}
    </Box>
  );
}
