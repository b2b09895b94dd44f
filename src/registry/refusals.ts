/** The state's answers shared by several steps' refusals (each step's own rules are in its module). */
import type { MigrationState } from '../state/migrationState.js';

const time = (iso: string) => new Date(iso).toTimeString().slice(0, 8);

/** What to do now, in the state's words. */
export function nextWords(s: MigrationState): string {
  return s.next ? `next: ${s.next.command} (${s.next.why})` : 'the migration is finished';
}

/** The table the application uses is missing, or not a table. */
export function sourceProblem(s: MigrationState): string | null {
  if (s.catalog.source === null) return `${s.table} does not exist (check --schema and --table)`;
  if (s.catalog.source === 'other') return `${s.table} is not a table`;
  return null;
}

/** Nothing partitioned to look at: the table is missing or plain and has no partitioned copy yet. */
export function noPartitionedTable(s: MigrationState, what: string): string {
  return sourceProblem(s) ?? `nothing to ${what} yet: ${s.table} is not partitioned and ${s.newTable} does not exist: run create first`;
}

/** A step that changes things must not run beside another one (migrate and pause/resume handle their own). */
export function busyElsewhere(s: MigrationState): string | null {
  const r = s.running;
  if (!r) return null;
  return `${r.step} is running (server pid ${r.pid}, since ${time(r.since)}): let it finish or stop it, then try again`;
}

export const swapped = (s: MigrationState) => s.phase === 'swapped' || s.phase === 'finished';

/** The copy's position, e.g. "41% (412,000 rows copied)". */
export function copyAt(s: MigrationState): string {
  const c = s.copy;
  if (!c) return 'nothing copied';
  return c.percent !== null ? `${c.percent}% (${c.copied.toLocaleString('en-US')} rows copied)` : `${c.copied.toLocaleString('en-US')} rows copied`;
}

/** Before a copy exists: what to run first, by phase. */
export function beforeCopy(s: MigrationState, what: string): string | null {
  if (s.phase === 'nothing') return `nothing to ${what} yet: run create, then migrate, then verify --data`;
  if (s.phase === 'rolled-back' && !s.swappedBack) return `the rollback removed the copy, nothing to ${what}: run create, then migrate, then verify --data`;
  if (s.phase === 'created') return `nothing is copied yet: run migrate, then verify --data`;
  if (s.phase === 'copying') {
    if (s.copy?.running) return `migrate is still copying (${copyAt(s)}): let it finish, then run verify --data`;
    return `the copy is not complete (${copyAt(s)}): run migrate to finish it, then verify --data`;
  }
  return null;
}
