/**
 * Records every statement a session sends (its query method wrapped), and compares them with a step's preview.
 *
 * What is compared, and the two declared exceptions (nothing else is left out):
 * 1. Reads. A step reads the catalog and the journal before it acts (snapshots, refusals, the gate's checks under the
 *    locks). A preview does not list them. A read is either a whole transaction opened READ ONLY (the server refuses
 *    any write in it), or a single SELECT / WITH statement that names no locking or writing function or clause
 *    (pg_advisory_*, set_config, nextval, setval, FOR UPDATE / FOR SHARE, INSERT, UPDATE, DELETE). Every other
 *    statement is compared: BEGIN, SET LOCAL, LOCK TABLE, DDL, writes, COMMIT and ROLLBACK.
 * 2. The journal's own records: the journal's schema (the exact text of sql/journal.sql, idempotent) and the inserts
 *    and updates of partwise.migration, partwise.step_log and partwise.control (which step ran, when, its result).
 *    Everything else in schema partwise (change logs, capture baselines, checkpoints, verifications) is compared.
 *
 * A preview statement marked conditional (`when`) may be absent from what was sent (it runs only in that case); the
 * tests say which cases they expect to have happened.
 */
import type pg from 'pg';
import { sqlFile } from '../../src/sqlFiles.js';
import type { ScriptPart, ScriptStatement } from '../../src/plan/script.js';

export interface Recording {
  /** every statement sent since the recording started, in order */
  sent: string[];
  stop(): void;
}

export function record(client: pg.ClientBase): Recording {
  const sent: string[] = [];
  const original = client.query;
  // partwise uses the promise forms: (text[, values]) or a config object with `text`
  client.query = function (this: pg.ClientBase, ...args: unknown[]) {
    const first = args[0] as string | { text?: string };
    sent.push(typeof first === 'string' ? first : String(first?.text));
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof client.query;
  return { sent, stop: () => void (client.query = original) };
}

const WRITES_OR_LOCKS = /\b(pg_advisory\w*|set_config|nextval|setval|INSERT|UPDATE|DELETE|FOR\s+UPDATE|FOR\s+SHARE|FOR\s+NO\s+KEY\s+UPDATE|FOR\s+KEY\s+SHARE)\b/i;

/** Rule 1: a single statement that only reads (leading `--` comment lines, as in the sql/ files, do not count). */
export function isRead(sql: string): boolean {
  const text = sql.replace(/^(\s*--[^\n]*\n)*/, '');
  return /^\s*(SELECT|WITH)\b/i.test(text) && !WRITES_OR_LOCKS.test(text);
}

const JOURNAL_SQL = sqlFile('journal.sql');
const JOURNAL_WRITE = /^\s*(INSERT\s+INTO|UPDATE)\s+partwise\.(migration|step_log|control)\b/i;

/** Rule 2: the journal's own records. */
export function isJournalRecord(sql: string): boolean {
  return sql === JOURNAL_SQL || JOURNAL_WRITE.test(sql);
}

/** What is compared: the recorded statements without reads (rule 1, read-only transactions whole) and journal records (rule 2). */
export function compared(sent: string[]): string[] {
  const out: string[] = [];
  let readOnly = false;
  for (const sql of sent) {
    if (readOnly) {
      if (/^\s*(COMMIT|ROLLBACK)\s*$/i.test(sql)) readOnly = false;
      continue;
    }
    if (/^\s*BEGIN\b.*\bREAD\s+ONLY\b/i.test(sql)) {
      readOnly = true;
      continue;
    }
    if (isRead(sql) || isJournalRecord(sql)) continue;
    out.push(sql);
  }
  return out;
}

export const flatten = (parts: ScriptPart[]): ScriptStatement[] => parts.flatMap((p) => p.statements);

/**
 * Matches what was sent with what the preview listed, in order: every plain statement must be the next one sent, a
 * conditional one is either the next one sent or skipped. Returns the mismatch in words, or null; and which
 * conditional statements ran.
 */
export function matchPreview(expected: ScriptStatement[], sent: string[]): { problem: string | null; ranConditional: string[] } {
  const ranConditional: string[] = [];
  let i = 0;
  for (const [n, e] of expected.entries()) {
    const sql = typeof e === 'string' ? e : e.sql;
    if (sent[i] === sql) {
      if (typeof e !== 'string') ranConditional.push(sql);
      i++;
      continue;
    }
    if (typeof e !== 'string') continue;
    return { problem: `preview statement ${n} was not sent next.\npreview: ${sql}\nsent:    ${sent[i] ?? '(nothing more)'}\nsent before it: ${sent.slice(Math.max(0, i - 3), i).join(' | ')}`, ranConditional };
  }
  if (i < sent.length) return { problem: `sent ${sent.length - i} statement(s) the preview did not list, from: ${sent[i]}`, ranConditional };
  return { problem: null, ranConditional };
}
