import React from 'react';
import { Box } from 'ink';
import { Text } from './Text.js';
import type { CheckItem } from '../events.js';
import { useWindowedList } from '../hooks/useWindowedList.js';
import { listRows, WindowedList } from './WindowedList.js';
import { wrapLines } from '../text/wrap.js';
import { useTone } from './Theme.js';

const SIGN = { ok: '✔', warn: '!', fail: '✘' } as const;

/** Check or verify items, failures first, each with its reason and what to do; windowed. */
export function CheckItems({ items, height, width, isActive }: { items: CheckItem[]; height: number; width: number; isActive: boolean }) {
  const color = useTone();
  const order = { fail: 0, warn: 1, ok: 2 } as const;
  const sorted = [...items].sort((a, b) => order[a.status] - order[b.status]);
  // wrapped here, one terminal row per line, so the window counts what it shows and the keys reach the last line
  const lines = sorted.flatMap((it) => [
    ...wrapLines(`${SIGN[it.status]} ${it.title}: ${it.reason}`, width, '  ').map((text) => ({ it, text, main: true })),
    ...(it.todo && it.status !== 'ok' ? wrapLines(`    → ${it.todo}`, width, '      ').map((text) => ({ it, text, main: false })) : []),
  ]);
  const win = useWindowedList(lines.length, listRows(height - 1), { isActive });
  const counts = { ok: 0, warn: 0, fail: 0 };
  for (const it of items) counts[it.status]++;
  return (
    <Box flexDirection="column">
      <Text>
        <Text color={color('ok')}>{counts.ok} ok</Text> · <Text color={color('warn')}>{counts.warn} warn</Text> · <Text color={color('fail')}>{counts.fail} fail</Text>
      </Text>
      <WindowedList
        items={lines}
        offset={win.offset}
        height={height - 1}
        itemKey={(_, i) => String(i)}
        render={(l) => (
          <Text wrap="truncate" color={l.main ? color(l.it.status === 'ok' ? undefined : l.it.status) : color('accent')}>
            {l.text}
          </Text>
        )}
      />
    </Box>
  );
}
