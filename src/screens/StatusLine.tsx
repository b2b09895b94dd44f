import React from 'react';
import { Text } from './Text.js';
import { useTone } from './Theme.js';

export interface StatusLineProps {
  /** host:port/database as describeTarget gives it (never the password) */
  target: string;
  version: string;
  embedded: boolean;
  table: string;
  health: { ok: boolean; latencyMs: number | null; error: string | null; reconnecting?: boolean };
  readOnly: boolean;
}

/** One line: the server, the table, the connection's health; says when it is the embedded rehearsal database. */
export function StatusLine({ target, version, embedded, table, health, readOnly }: StatusLineProps) {
  const color = useTone();
  const where = embedded ? `embedded rehearsal database (PostgreSQL ${version}, ${target})` : `${target} PostgreSQL ${version}`;
  const conn = health.ok
    ? `connection ok${health.latencyMs !== null ? ` ${health.latencyMs} ms` : ''}`
    : health.reconnecting ? `connection lost, reconnecting… (${health.error ?? ''})` : `connection lost: ${health.error ?? ''}`;
  return (
    <Text wrap="truncate">
      <Text bold>partwise</Text>
      {readOnly ? <Text color={color('warn')}> watch (read-only)</Text> : null}
      <Text> {table} · </Text>
      <Text color={color(health.ok ? 'ok' : health.reconnecting ? 'warn' : 'fail')}>{conn}</Text>
      <Text> · {where}</Text>
    </Text>
  );
}
