import { MAX_WORKERS } from '../../config/config.js';
import type { MigrateMode, MigrateOptions } from '../../steps/migrate.js';
import { UsageError, choiceFlag, intFlag, ratioFlag, stringFlag } from '../flags.js';
import { nextWords, sourceProblem, swapped } from '../refusals.js';
import { defineStep } from '../types.js';

export const MIGRATE_MODES = ['one', 'all', 'gradual'] as const;

/** The worker counts the app's w key steps through (the CLI takes any from 1 to MAX_WORKERS). */
export const WORKER_CHOICES = [1, 2, 3, 4, 6, 8] as const;

export const MODE_WORDS: Record<MigrateMode, string> = {
  one: 'one program (the largest): test first',
  all: 'every program at once',
  gradual: 'program by program, each verified before the next',
};

/** 5 Migrate: change capture, then the copy in batches; resumable, pausable, rate-limited from any terminal. */
export const migrate = defineStep({
  id: 'migrate', command: 'migrate', key: '5', title: 'Migrate',
  summary: 'copy the rows with change capture on',
  about: 'Installs change capture on the source (SHARE ROW EXCLUSIVE on it while the triggers are created: writes wait a moment, reads go on), ' +
    'then copies rows in batches, each one transaction with its journal checkpoint (ROW EXCLUSIVE on the new table). ' +
    'The source keeps serving reads and writes; a stopped copy resumes from its last batch. Then it back-fills referencing tables\' key column.',
  changes: true, stopsSafely: true, confirm: 'y',
  flags: [
    { name: 'mode', type: 'string', value: 'one|all|gradual', help: 'one: a single program (default the largest); all: one pass over the table; gradual: program by program, each verified before the next' },
    { name: 'program', type: 'string', value: 'ID|LABEL', help: 'with --mode one: the program to copy (its key or label)' },
    { name: 'batch-size', type: 'string', value: 'N', help: 'rows per batch (each batch one transaction)' },
    { name: 'max-rate', type: 'string', value: 'ROWS_PER_S', help: 'copy at most this many rows a second' },
    { name: 'sleep-ms', type: 'string', value: 'N', help: 'pause between batches' },
    { name: 'max-latency-ratio', type: 'string', value: 'R', help: 'slow the copy while the slowest tenth of probe commits take over R times their time before the copy' },
    { name: 'workers', type: 'string', value: 'N', help: `copy with N sessions at once, each on its own block ranges (default the config's workers, 1; at most ${MAX_WORKERS}); partwise check suggests N` },
  ],
  options(flags): MigrateOptions {
    const mode = choiceFlag(flags, 'mode', MIGRATE_MODES);
    if (!mode) throw new UsageError('migrate needs --mode one|all|gradual');
    return {
      mode, program: stringFlag(flags, 'program'),
      batchSize: intFlag(flags, 'batch-size', 1, 1_000_000), maxRate: intFlag(flags, 'max-rate', 1, 100_000_000),
      sleepMs: intFlag(flags, 'sleep-ms', 0, 600_000), maxLatencyRatio: ratioFlag(flags, 'max-latency-ratio'),
      workers: intFlag(flags, 'workers', 1, MAX_WORKERS),
    };
  },
  question: (cfg, o, s) =>
    `${s.copy && s.copy.copied > 0 ? `Resume at ${s.copy.percent ?? '?'}% (${s.copy.copied.toLocaleString('en-US')} rows copied): ` : ''}` +
    `Install change capture on ${cfg.schema}.${cfg.table} and copy ${MODE_WORDS[o.mode]} into ${cfg.schema}.${cfg.newTable}` +
    `${(o.workers ?? cfg.workers) > 1 ? ` with ${o.workers ?? cfg.workers} workers` : ''}? ` +
    'The application keeps reading and writing; q stops safely after the current batch.',
  refuse(s) {
    const problem = sourceProblem(s);
    if (problem) return problem;
    if (swapped(s)) return `the swap happened: ${s.table} is already the partitioned table, nothing to migrate; ${nextWords(s)}`;
    if (s.phase === 'nothing') return 'nothing to copy into yet: run create first';
    if (s.phase === 'rolled-back' && !s.swappedBack) return 'the rollback removed the copy: run create first';
    // another migrate: its run lease refuses this one with who holds it (a killed one's lease frees itself)
    if (s.running && s.running.step !== 'migrate') return `${s.running.step} is running (server pid ${s.running.pid}): let it finish, then migrate`;
    return null;
  },
  keys: [
    { keys: ['enter'], label: 'migrate', help: 'start or resume the copy (asks y)', action: 'run' },
    { keys: ['m'], label: 'mode', help: 'mode: one / all / gradual', action: 'mode' },
    { keys: ['w'], label: 'workers', help: `copy workers: ${WORKER_CHOICES.join(' / ')} sessions at once (before the start; partwise check suggests how many)`, action: 'workers' },
    { keys: ['p', ' '], label: 'pause', help: 'pause / resume (through the journal: any terminal sees it)', action: 'pause' },
    { keys: ['+', '-'], label: 'rate', help: 'raise / lower the rate limit', action: 'rate' },
    { keys: ['b', 'B'], label: 'batch', help: 'smaller / larger batches', action: 'batch' },
  ],
  preview: async (p, _state, options) => (await import('../../steps/preview/setup.js')).migratePreview(p, options?.mode),
  run: async (ctx, o) => (await import('../../steps/migrate.js')).runMigrate(ctx, o),
});
