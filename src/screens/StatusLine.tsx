import React from 'react';
import { Box } from 'ink';
import { Text } from './Text.js';
import { useTone } from './Theme.js';
import { wrapLines } from '../text/wrap.js';

export interface StatusLineProps {
  /** host:port/database as describeTarget gives it (never the password) */
  target: string;
  version: string;
  embedded: boolean;
  table: string;
  health: { ok: boolean; latencyMs: number | null; error: string | null; reconnecting?: boolean };
  readOnly: boolean;
}

/** The status line's parts: what the server is, and the connection's health (their words, before any wrapping). */
export function statusParts({ target, version, embedded, health }: Pick<StatusLineProps, 'target' | 'version' | 'embedded' | 'health'>) {
  const where = embedded ? `embedded rehearsal database (PostgreSQL ${version}, ${target})` : `${target} PostgreSQL ${version}`;
  const conn = health.ok
    ? `connection ok${health.latencyMs !== null ? ` ${health.latencyMs} ms` : ''}`
    : health.reconnecting ? `connection lost, reconnecting… (${health.error ?? ''})` : `connection lost: ${health.error ?? ''}`;
  return { where, conn };
}

/** The whole status line as text: what StatusLine shows, and what the app wraps to count its rows. */
export function statusText(p: StatusLineProps): string {
  const { where, conn } = statusParts(p);
  return `partwise${p.readOnly ? ' watch (read-only)' : ''} ${p.table} · ${conn} · ${where}`;
}

/** The rows the status line takes at `width` columns: it wraps (server, host and port are read whole), never cut. */
export const statusRows = (p: StatusLineProps, width: number) => wrapLines(statusText(p), width).length;

/** The server, the table, the connection's health; says when it is the embedded rehearsal database. Wraps when long. */
export function StatusLine(p: StatusLineProps & { width: number }) {
  const color = useTone();
  const { conn } = statusParts(p);
  const tone = color(p.health.ok ? 'ok' : p.health.reconnecting ? 'warn' : 'fail');
  // wrapped here (statusRows counts the same lines); the health keeps its color when it sits on one line
  return (
    <Box flexDirection="column">
      {wrapLines(statusText(p), p.width).map((line, i) => {
        const at = line.indexOf(conn);
        return at < 0 ? (
          <Text key={i}>{line}</Text>
        ) : (
          <Text key={i}>
            {line.slice(0, at)}
            <Text color={tone}>{conn}</Text>
            {line.slice(at + conn.length)}
          </Text>
        );
      })}
    </Box>
  );
}
