import React from 'react';
import { Box } from 'ink';
import { Text } from './Text.js';
import { useTone } from './Theme.js';
import { useWindowedList } from '../hooks/useWindowedList.js';
import { listRows, WindowedList } from './WindowedList.js';
import { wrapLines } from '../text/wrap.js';
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

interface HelpLine {
  text: string;
  heading: boolean;
}

const KEY_COLUMN = Math.max(...sections().flatMap(([, keys]) => keys.map(([k]) => [...k].length)));
/** two columns only when every description fits beside its key on one line; else one column, scrolled if need be */
const MIN_COLUMN = KEY_COLUMN + 3 + Math.max(...sections().flatMap(([, keys]) => keys.map(([, what]) => [...what].length)));

/** The help as lines of `width` columns: headings, then each key with its description wrapped beside it. */
export function helpLines(width: number): HelpLine[] {
  const out: HelpLine[] = [];
  for (const [title, keys] of sections()) {
    out.push({ text: title, heading: true });
    for (const [k, what] of keys) {
      const desc = wrapLines(what, width - KEY_COLUMN - 3);
      desc.forEach((d, i) => out.push({ text: `${(i ? '' : k).padEnd(KEY_COLUMN)}  ${d}`, heading: false }));
    }
  }
  return out.map((l) => (l.heading ? l : { ...l, text: ` ${l.text}` }));
}

/**
 * The keys, as DBAs know them from htop, k9s, lazygit and pg_activity. Two columns when both fit without wrapping
 * most descriptions, else one; either way nothing is cut, and what does not fit scrolls (j/k, PgUp/PgDn, g/G).
 */
export function HelpOverlay({ height, width }: { height: number; width: number }) {
  const color = useTone();
  const inner = width - 4;
  const two = inner >= 2 * MIN_COLUMN + 2;
  const columnWidth = two ? Math.floor((inner - 2) / 2) : inner;
  const lines = helpLines(columnWidth);
  const listHeight = height - 3;
  // two columns split between sections, as near the middle as can be (a heading never ends a column)
  const headings = lines.flatMap((l, i) => (l.heading && i > 0 ? [i] : []));
  const split = headings.reduce((best, i) => (Math.abs(i - lines.length / 2) < Math.abs(best - lines.length / 2) ? i : best), lines.length);
  const columns = two ? [lines.slice(0, split), lines.slice(split)] : [lines];
  const tallest = Math.max(...columns.map((c) => c.length));
  const win = useWindowedList(tallest, listRows(listHeight), { isActive: true });
  const fits = tallest <= listHeight;
  const line = (l: HelpLine, n: number) => (
    <Text key={n} bold={l.heading} color={l.heading ? color('accent') : undefined} wrap="truncate">
      {l.text}
    </Text>
  );
  const column = (part: HelpLine[], i: number) => (
    <Box key={i} flexDirection="column" width={columnWidth} marginRight={two && i === 0 ? 2 : 0}>
      {fits ? part.map(line) : <WindowedList items={part} offset={win.offset} height={listHeight} itemKey={(_, n) => String(n)} render={line} />}
    </Box>
  );
  return (
    <Box flexDirection="column" height={Math.min(height, tallest + 3)} overflowY="hidden" borderStyle="round" paddingX={1}>
      <Text bold wrap="truncate">Help — keys (esc, q or ? closes)</Text>
      <Box>{columns.map(column)}</Box>
    </Box>
  );
}
