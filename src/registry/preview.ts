import { sqlComment } from '../text/safe.js';
import type { PreviewPart } from './types.js';

/** A step's SQL as a reviewable script: per part a comment heading with its locks and notes, then the statements. */
export function previewScript(parts: PreviewPart[]): string {
  return parts
    .map((p) => {
      const head = [sqlComment(p.title), ...p.locks.map((l) => sqlComment(`  lock: ${l.mode} on ${l.on} (${l.why})`)), ...p.notes.map((n) => sqlComment(n))];
      const body = p.statements.map((s) => `${s};`);
      return (p.transactional && body.length ? [...head, 'BEGIN;', ...body, 'COMMIT;'] : [...head, ...body]).join('\n');
    })
    .join('\n\n');
}

/** A part that only explains (a read-only step, or statements built while running). */
export const notePart = (title: string, ...notes: string[]): PreviewPart => ({ title, statements: [], locks: [], transactional: false, notes });
