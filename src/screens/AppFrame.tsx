import React from 'react';
import { Box } from 'ink';
import { Text, Wrapped } from './Text.js';
import type { ChecklistId } from '../registry/index.js';
import type { MigrationState } from '../state/migrationState.js';
import { wrapLines } from '../text/wrap.js';
import { Checklist } from './Checklist.js';
import { ConfirmPrompt, confirmRows, type ConfirmRequest } from './ConfirmPrompt.js';
import { Footer, footerLines, type KeyHint } from './Footer.js';
import { HelpOverlay } from './HelpOverlay.js';
import { StatusLine, statusRows, type StatusLineProps } from './StatusLine.js';
import { useTone } from './Theme.js';

export const MIN_COLUMNS = 80;
export const MIN_ROWS = 24;
/** Below this width the checklist is a header line instead of a side column. */
export const SIDE_COLUMN_FROM = 120;
/** the side column's width (its border and padding included), and the screen's left padding beside it */
const SIDE_COLUMN = 22;

/** Where the step's screen goes and how much room it has. */
export interface ScreenSlot {
  width: number;
  height: number;
  /** false while an overlay, a prompt or the SQL panel has the keyboard */
  isActive: boolean;
}

export interface AppFrameProps {
  columns: number;
  rows: number;
  status: StatusLineProps;
  /** null until the journal is read */
  state: MigrationState | null;
  current: ChecklistId | null;
  rollbackAvailable: boolean;
  keys: KeyHint[];
  overlay: null | 'help' | 'quit' | 'stopping';
  /** the step running in this process, if any */
  running: string | null;
  confirm: ConfirmRequest | null;
  onCancelConfirm(): void;
  notice: string | null;
  /** the SQL panel when `s` shows it, given the room it has */
  sql: ((height: number) => React.ReactNode) | null;
  /** the current step's screen, given its room */
  screen(slot: ScreenSlot): React.ReactNode;
  /** the step still running when the terminal is too small */
  tooSmallNote?: string | null;
}

const quitSentence = (running: string | null) =>
  `${running ?? 'a step'} is running. Stop it safely and quit? The current batch commits and the journal records it; the next start resumes.`;

/**
 * The app's frame from plain values (no database, no timers): the status line, the checklist (a side column from 120
 * columns, a header line below), the current screen, overlays and prompts, the footer. Every part that can grow
 * (status line, footer, notice, quit dialog, prompt) wraps, and the screen gets what is left: the frame fits the
 * terminal and nothing essential is cut.
 */
export function AppFrame(p: AppFrameProps) {
  const color = useTone();
  const { columns, rows } = p;
  if (columns < MIN_COLUMNS || rows < MIN_ROWS) {
    return (
      <Box flexDirection="column">
        <Text color={color('warn')} wrap="wrap">
          The terminal is {columns}x{rows}; partwise needs at least {MIN_COLUMNS}x{MIN_ROWS}. Enlarge the window (it redraws on resize) or press q to quit.
        </Text>
        {p.tooSmallNote ? <Text>{p.tooSmallNote}</Text> : null}
      </Box>
    );
  }
  // the live region stays shorter than the terminal, so Ink never clears the whole screen
  const height = rows - 1;
  const statusHeight = statusRows(p.status, columns);
  const status = <StatusLine {...p.status} width={columns} />;
  if (p.current === null || p.state === null) {
    return (
      <Box flexDirection="column" height={height}>
        {status}
        <Text>reading the journal…</Text>
      </Box>
    );
  }
  const compact = columns < SIDE_COLUMN_FROM;
  const contentWidth = compact ? columns - 1 : columns - SIDE_COLUMN - 2;
  const footerHeight = footerLines(p.keys, columns - 1).length;
  const mainHeight = height - statusHeight - footerHeight - (compact ? 1 : 0);
  // a box's border and padding take 4 columns and 2 rows
  const boxed = (text: string) => wrapLines(text, contentWidth - 4).length + 2;
  const confirmHeight = p.confirm ? confirmRows(p.confirm, contentWidth) : p.notice ? boxed(p.notice) : 0;
  const quitHeight = p.overlay === 'quit' ? boxed(quitSentence(p.running)) + 1 : p.overlay === 'stopping' ? 1 : 0;
  const screenActive = p.overlay === null && p.confirm === null && p.sql === null;
  const checklist = (c: boolean) => (
    <Checklist migration={p.state!} current={p.current!} rollbackAvailable={p.rollbackAvailable} compact={c} width={contentWidth} />
  );
  return (
    <Box flexDirection="column" height={height}>
      {status}
      {compact ? checklist(true) : null}
      <Box height={mainHeight}>
        {!compact ? checklist(false) : null}
        <Box flexDirection="column" flexGrow={1} paddingLeft={compact ? 0 : 1} height={mainHeight} overflowY="hidden">
          {p.overlay === 'quit' ? (
            <Box borderStyle="round" borderColor={color('warn')} paddingX={1} flexDirection="column">
              <Wrapped text={quitSentence(p.running)} width={contentWidth - 4} />
              <Text bold wrap="wrap">y: stop and quit · any other key: keep running</Text>
            </Box>
          ) : null}
          {p.overlay === 'stopping' ? <Text color={color('warn')} wrap="wrap">stopping {p.running ?? ''} at the next safe point, then quitting…</Text> : null}
          {p.confirm ? <ConfirmPrompt request={p.confirm} onCancel={p.onCancelConfirm} width={contentWidth} /> : null}
          {p.notice && !p.confirm ? (
            <Box borderStyle="round" borderColor={color('warn')} paddingX={1}>
              <Box flexDirection="column"><Wrapped text={p.notice} width={contentWidth - 4} color={color('warn')} /></Box>
            </Box>
          ) : null}
          {p.overlay === 'help' ? <HelpOverlay height={mainHeight} width={contentWidth} /> : null}
          {p.sql && p.overlay !== 'help' ? p.sql(mainHeight - confirmHeight) : null}
          <Box display={p.overlay === 'help' || p.sql ? 'none' : 'flex'} flexDirection="column">
            {p.screen({ width: contentWidth, height: mainHeight - confirmHeight - quitHeight, isActive: screenActive })}
          </Box>
        </Box>
      </Box>
      <Footer keys={p.keys} width={columns - 1} />
    </Box>
  );
}

