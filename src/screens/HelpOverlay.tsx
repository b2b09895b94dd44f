import React from 'react';
import { Box } from 'ink';
import { Text } from './Text.js';
import { CHECKLIST, ROLLBACK_STEP } from '../registry/index.js';
import type { KeyBinding } from '../registry/types.js';

/** The keys that work on every screen (the steps' own come from the registry). */
export const GLOBAL_KEYS: Array<[string, string]> = [
  ['1-7', 'jump to a step'], ['tab / shift+tab', 'next / previous step'], ['enter', "run the step's action"],
  ['s', 'show / hide the SQL'], ['↑↓ j k PgUp PgDn g G', 'scroll'], ['R', 'rollback (after Create)'],
  ['?', 'this help (esc, q or ? closes it)'], ['esc', 'back'], ['q, ctrl+c', 'quit (asks first while a step runs)'],
];

/** How a binding's keys are written: ' ' is space, '+' and '-' side by side. */
export const keysText = (k: KeyBinding) => k.keys.map((x) => (x === ' ' ? 'space' : x)).join(k.keys.every((x) => x.length === 1) ? ' ' : ', ');

function sections(): Array<[string, Array<[string, string]>]> {
  const out: Array<[string, Array<[string, string]>]> = [['Everywhere', GLOBAL_KEYS]];
  for (const s of [...CHECKLIST, ROLLBACK_STEP]) {
    const own = (s.keys ?? []).filter((k) => !k.keys.includes('enter'));
    if (own.length) out.push([s.title, own.map((k) => [keysText(k), k.help])]);
  }
  return out;
}

/** The keys, as DBAs know them from htop, k9s, lazygit and pg_activity. */
export function HelpOverlay({ height }: { height: number }) {
  const lines: Array<[string, string] | string> = [];
  for (const [title, keys] of sections()) {
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
