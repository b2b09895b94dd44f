import { busyElsewhere, sourceProblem } from '../refusals.js';
import { defineStep } from '../types.js';

const swappedNow = (phase: string) => phase === 'swapped';

/** R Rollback: before the swap removes the copy; after it swaps back with every write made since. */
export const rollback = defineStep({
  id: 'rollback', command: 'rollback', key: 'R', title: 'Rollback',
  summary: 'undo, before or after the swap, losing no write',
  about: 'Undoes what was done, losing no write: while the copy is not swapped in, drops the new table, its partitions and the capture ' +
    'machinery (the source stays exactly as it was); once swapped, swaps back in one short transaction, keeping every write made since. ' +
    'ACCESS EXCLUSIVE on both tables for a moment.',
  changes: true, shortLockWait: true, confirm: 'table-name', flags: [],
  options: () => ({}),
  question: (cfg, _o, s) => swappedNow(s.phase)
    ? `Swap back: ${cfg.schema}.${cfg.oldTable} becomes ${cfg.schema}.${cfg.table} again, with every write made since the swap?`
    : `Drop ${cfg.schema}.${cfg.newTable}, its partitions and the capture machinery? ${cfg.schema}.${cfg.table} stays exactly as it is.`,
  refuse(s) {
    if (s.phase === 'finished') {
      return s.catalog.old
        ? `finish removed change capture: ${s.oldTable} lacks the writes made since, and swapping back would lose them`
        : `the swap was finished with --drop-old (or ${s.oldTable} was dropped): nothing to roll back to`;
    }
    if (s.phase === 'swapped') return busyElsewhere(s);
    const problem = sourceProblem(s) ?? busyElsewhere(s);
    if (problem) return problem;
    if (!s.catalog.target && !s.catalog.forwardCapture && !s.catalog.leftovers)
      return s.phase === 'rolled-back' ? `already rolled back: ${s.newTable} does not exist and ${s.table} is as it was` : `nothing to roll back: ${s.newTable} does not exist and the swap has not happened`;
    return null;
  },
  keys: [{ keys: ['enter'], label: 'rollback', help: 'roll back (type the table name)', action: 'run' }],
  preview: async (p) => (await import('../../steps/preview/switch.js')).rollbackPreview(p),
  run: async (ctx) => (await import('../../steps/rollback.js')).runRollback(ctx),
});
