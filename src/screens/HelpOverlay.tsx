import React from 'react';
import { Box } from 'ink';
import { Text } from './Text.js';

const SECTIONS: Array<[string, Array<[string, string]>]> = [
  ['Everywhere', [
    ['1-7', 'jump to a step'], ['tab / shift+tab', 'next / previous step'], ['enter', "run the step's action"],
    ['s', 'show / hide the SQL'], ['↑↓ j k PgUp PgDn g G', 'scroll'], ['R', 'rollback (after Create)'],
    ['?', 'this help (esc, q or ? closes it)'], ['esc', 'back'], ['q, ctrl+c', 'quit (asks first while a step runs)'],
  ]],
  ['Verify', [['d', 'compare the data (counts and checksums)']]],
  ['Migrate', [['m', 'mode: one / all / gradual'], ['p, space', 'pause / resume'], ['+ -', 'rate limit'], ['b B', 'batch size']]],
  ['Swap', [['f', 'finish (remove capture, keep the old table)']]],
  ['Monitor', [['+ -', 'refresh interval (0.5-10 s)'], ['r', 'refresh now'], ['o', 'cycle the sort column'], ['c', 'exact row count of the selected partition']]],
];

/** The keys, as DBAs know them from htop, k9s, lazygit and pg_activity. */
export function HelpOverlay({ height }: { height: number }) {
  const lines: Array<[string, string] | string> = [];
  for (const [title, keys] of SECTIONS) {
    lines.push(title);
    for (const k of keys) lines.push(k);
  }
  const half = Math.ceil(lines.length / 2);
  const column = (part: typeof lines) => (
    <Box flexDirection="column" width={38}>
      {part.map((l, i) =>
        typeof l === 'string' ? (
          <Text key={i} bold>{l}</Text>
        ) : (
          <Text key={i} wrap="truncate">
            {'  '}
            <Text bold>{l[0].padEnd(20)}</Text> {l[1]}
          </Text>
        ),
      )}
    </Box>
  );
  return (
    <Box flexDirection="column" height={height} overflowY="hidden" borderStyle="round" paddingX={1}>
      <Text bold>Help — keys (esc, q or ? closes)</Text>
      <Box>
        {column(lines.slice(0, half))}
        {column(lines.slice(half))}
      </Box>
    </Box>
  );
}
