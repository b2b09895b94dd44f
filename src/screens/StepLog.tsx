import React from 'react';
import { Box } from 'ink';
import { Text } from './Text.js';
import type { EngineEvent } from '../events.js';
import { formatDuration } from '../format.js';
import { useWindowedList } from '../hooks/useWindowedList.js';
import { listRows, WindowedList } from './WindowedList.js';
import { wrapLines } from '../text/wrap.js';
import { useTone, type Tone } from './Theme.js';

interface Line {
  text: string;
  tone?: Tone;
}

/** The engine's step events as lines: each step started (with its locks), done, skipped, retried, failed. */
export function logLines(log: EngineEvent[]): Line[] {
  const out: Line[] = [];
  for (const e of log) {
    switch (e.type) {
      case 'step.start':
        out.push({ text: `> ${e.title}` });
        for (const l of e.locks) out.push({ text: `    lock ${l.mode} on ${l.on}`, tone: 'dim' });
        break;
      case 'step.done':
        out.push({ text: `✔ ${e.title} (${formatDuration(e.ms)})`, tone: 'ok' });
        break;
      case 'step.skip':
        out.push({ text: `- ${e.title}: ${e.reason}`, tone: 'dim' });
        break;
      case 'step.retry':
        out.push({ text: `! ${e.step}: ${e.message} (attempt ${e.attempt}/${e.attempts})`, tone: 'warn' });
        break;
      case 'step.fail':
        out.push({ text: `✘ ${e.title}: ${e.error.message}`, tone: 'fail' });
        break;
      case 'info':
        out.push({ text: e.message });
        break;
      case 'warn':
        out.push({ text: `! ${e.message}`, tone: 'warn' });
        break;
      default:
        break;
    }
  }
  return out;
}

/** What ran, newest at the bottom; follows the end unless scrolled. */
export function StepLog({ log, height, width, isActive }: { log: EngineEvent[]; height: number; width: number; isActive: boolean }) {
  const color = useTone();
  // wrapped here, one terminal row per line: warnings and results are read whole, and the window counts rows
  const lines = logLines(log).flatMap((l) => wrapLines(l.text, width, '    ').map((text) => ({ ...l, text })));
  const rows = listRows(height);
  const win = useWindowedList(lines.length, rows, { isActive });
  // follow the tail while nobody scrolled up
  const offset = win.offset === 0 && lines.length > rows ? lines.length - rows : win.offset;
  return (
    <Box flexDirection="column">
      <WindowedList
        items={lines}
        offset={offset}
        height={height}
        itemKey={(_, i) => String(i)}
        render={(l) => <Text wrap="truncate" color={color(l.tone)}>{l.text}</Text>}
      />
    </Box>
  );
}
