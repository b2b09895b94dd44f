import React from 'react';
import { Box } from 'ink';
import { Text } from './Text.js';
import type { PersonError } from '../events.js';
import { useTone } from './Theme.js';
import { wrapLines } from '../text/wrap.js';

/** The lines of the box, in its order (the statement on one line, cut: the SQL pane has it whole). */
function errorTexts(error: PersonError, summary?: string): string[] {
  return [
    `✘ ${error.message}`,
    ...(summary && summary !== error.message ? [summary] : []),
    ...(error.statement ? ['statement'] : []),
    ...(error.serverMessage && error.serverMessage !== error.message ? [`server: ${error.serverMessage}${error.code ? ` (${error.code})` : ''}`] : []),
    ...(error.serverDetail ? [`detail: ${error.serverDetail}`] : []),
    ...(error.serverHint ? [`hint: ${error.serverHint}`] : []),
    ...(error.unchanged ? [`unchanged: ${error.unchanged}`] : []),
    ...(error.todo ? [`what to do: ${error.todo}`] : []),
  ];
}

/** The rows the box takes at `width` columns: its border and each line wrapped inside it. */
export function errorBoxRows(error: PersonError, summary: string | undefined, width: number): number {
  return 2 + errorTexts(error, summary).reduce((n, t) => n + wrapLines(t, width - 4).length, 0);
}

/** A failure for people: what failed, the statement, the server's message and hint, what was left unchanged, what to do. */
export function ErrorBox({ error, summary }: { error: PersonError; summary?: string }) {
  const color = useTone();
  const statement = error.statement && error.statement.length > 400 ? `${error.statement.slice(0, 400)}…` : error.statement;
  return (
    <Box flexDirection="column" borderStyle="single" borderColor={color('fail')} paddingX={1}>
      <Text color={color('fail')} bold wrap="wrap">✘ {error.message}</Text>
      {summary && summary !== error.message ? <Text wrap="wrap">{summary}</Text> : null}
      {statement ? <Text wrap="truncate-end">statement: {statement.replace(/\s+/g, ' ')}</Text> : null}
      {error.serverMessage && error.serverMessage !== error.message ? <Text wrap="wrap">server: {error.serverMessage}{error.code ? ` (${error.code})` : ''}</Text> : null}
      {error.serverDetail ? <Text wrap="wrap">detail: {error.serverDetail}</Text> : null}
      {error.serverHint ? <Text wrap="wrap">hint: {error.serverHint}</Text> : null}
      {error.unchanged ? <Text wrap="wrap">unchanged: {error.unchanged}</Text> : null}
      {error.todo ? <Text wrap="wrap" color={color('accent')}>what to do: {error.todo}</Text> : null}
    </Box>
  );
}
