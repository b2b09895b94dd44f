import React from 'react';
import { Box } from 'ink';
import { Text } from './Text.js';
import { useTone } from './Theme.js';

export type KeyHint = [key: string, what: string];

const hintWidth = ([k, what]: KeyHint) => [...k].length + 1 + [...what].length;

/** The hints packed into lines of `width` columns, in order: every key stays visible (q quit too) on a narrow terminal. */
export function footerLines(keys: KeyHint[], width: number): KeyHint[][] {
  const lines: KeyHint[][] = [[]];
  let used = 0;
  for (const k of keys) {
    const w = hintWidth(k);
    const line = lines[lines.length - 1]!;
    if (line.length && used + 2 + w > width) {
      lines.push([k]);
      used = w;
    } else {
      used += (line.length ? 2 : 0) + w;
      line.push(k);
    }
  }
  return lines;
}

/** The keys that work on this screen, on as many lines as they need (footerLines). */
export function Footer({ keys, width }: { keys: KeyHint[]; width: number }) {
  const color = useTone();
  return (
    <Box flexDirection="column">
      {footerLines(keys, width).map((line, n) => (
        <Text key={n} wrap="truncate">
          {line.map(([k, what], i) => (
            <Text key={`${k}${i}`}>
              {i ? '  ' : ''}
              <Text bold color={color('accent')}>{k}</Text>
              <Text> {what}</Text>
            </Text>
          ))}
        </Text>
      ))}
    </Box>
  );
}
