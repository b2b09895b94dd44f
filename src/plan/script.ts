/**
 * A step's SQL as it is sent to the server, for the previews (the app's SQL panes, partwise plan) and the tests that
 * record what a step executes. The lists come from the same builders the steps run (src/exec/transaction.ts,
 * src/exec/runStep.ts, src/move/capture.ts, src/steps/switchTables.ts), so what is shown is what runs. Catalog and
 * journal reads are not listed (the notes say what is read); the journal's own records are not listed either.
 */
import type pg from 'pg';
import type { Config } from '../config/config.js';
import type { RetryPolicy } from '../exec/retry.js';
import { sqlComment } from '../text/safe.js';
import type { LockInfo } from './types.js';

/** What a preview reads and plans with: the retry policy is the one the step runs with (its SET LOCAL lock_timeout). */
export interface PreviewContext {
  client: pg.ClientBase;
  cfg: Config;
  retry: RetryPolicy;
}

/** A statement that runs only in some cases (a replay batch that took entries, a table that has rows). */
export interface Conditional {
  sql: string;
  /** the case, in words: "the batch took log entries" */
  when: string;
}

export type ScriptStatement = string | Conditional;

/** One part of a step's SQL: its statements in the order they are sent (BEGIN, SET LOCAL and COMMIT included). */
export interface ScriptPart {
  title: string;
  statements: ScriptStatement[];
  locks: LockInfo[];
  notes: string[];
}

export const sqlOf = (s: ScriptStatement): string => (typeof s === 'string' ? s : s.sql);

/** The same statements, each run only `when`. */
export function only(when: string, statements: string[]): Conditional[] {
  return statements.map((sql) => ({ sql, when }));
}

/** A part that only explains (a read-only step, or statements built while running). */
export const notePart = (title: string, ...notes: string[]): ScriptPart => ({ title, statements: [], locks: [], notes });

/**
 * The statements as a script: each ends with `;`; a conditional one is a comment (under "only when ..."), so running
 * the reviewed script never runs a case that does not apply.
 */
export function statementLines(statements: ScriptStatement[]): string[] {
  const out: string[] = [];
  let when: string | null = null;
  for (const s of statements) {
    if (typeof s === 'string') {
      when = null;
      out.push(`${s};`);
      continue;
    }
    if (s.when !== when) out.push(sqlComment(`only when ${s.when}:`));
    when = s.when;
    out.push(...`${s.sql};`.split('\n').map((l) => sqlComment(`  ${l}`)));
  }
  return out;
}

/** A step's SQL as a reviewable script: per part a comment heading with its locks and notes, then the statements. */
export function partsScript(parts: ScriptPart[]): string {
  return parts
    .map((p) => {
      const head = [sqlComment(p.title), ...p.locks.map((l) => sqlComment(`  lock: ${l.mode} on ${l.on} (${l.why})`)), ...p.notes.map((n) => sqlComment(`  ${n}`))];
      return [...head, ...statementLines(p.statements)].join('\n');
    })
    .join('\n\n');
}
