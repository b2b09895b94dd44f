import React from 'react';
import { Box } from 'ink';
import { Text } from './Text.js';
import { ProgressBar } from './ProgressBar.js';
import { useTone, type Tone } from './Theme.js';
import type { ChildLine } from '../state/children.js';

const TONE: Record<ChildLine['state'], Tone> = {
  'column to add': 'dim', 'column added': 'dim', 'back-filling': 'running', indexing: 'running', 'back-filled': 'accent', ready: 'ok', 'foreign key replaced': 'ok',
};

/**
 * The tables partwise carries because their foreign key into the table lacks the key (issue 17): one line each with
 * the back-fill's progress and what stands. Plain state in (src/state/children.ts), no SQL here.
 */
export function ChildTables({ lines, width, title, max }: { lines: ChildLine[]; width: number; title: string; max: number }) {
  const color = useTone();
  if (!lines.length || max < 2) return null;
  const nameW = Math.max(12, Math.min(32, Math.floor(width / 3)));
  const barW = Math.max(6, Math.min(20, width - nameW - 40));
  const shown = lines.slice(0, max - 1);
  return (
    <Box flexDirection="column">
      <Text bold wrap="truncate">{title}</Text>
      {shown.map((l) => (
        <Text key={l.child} wrap="truncate">
          {l.child.slice(0, nameW).padEnd(nameW)} {l.ratio === null ? ' '.repeat(barW) : <ProgressBar ratio={l.ratio} width={barW} tone={TONE[l.state]} />}{' '}
          {(l.ratio === null ? '' : `${Math.floor(l.ratio * 100)}%`).padStart(4)} {(l.filled === null ? '' : `${l.filled.toLocaleString('en-US')} set`).padStart(12)}{' '}
          {l.rowsPerSec ? `${Math.round(l.rowsPerSec).toLocaleString('en-US')}/s ` : ''}<Text color={color(TONE[l.state])}>{l.state}</Text>
        </Text>
      ))}
      {lines.length > shown.length ? <Text color={color('dim')}>{`… ${lines.length - shown.length} more`}</Text> : null}
    </Box>
  );
}
