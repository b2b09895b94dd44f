import { busyElsewhere } from '../refusals.js';
import { defineStep } from '../types.js';

/** finish (f on Swap): change capture removed once the swapped table is trusted; the old table kept unless --drop-old. */
export const finish = defineStep({
  id: 'finish', command: 'finish', title: 'Finish',
  summary: 'remove change capture after the swap; keep the old table (or --drop-old)',
  about: 'Removes change capture in both directions. The old table is kept (with the pg_dump command to back it up and the DROP to run ' +
    'later) unless --drop-old. After it, rollback can no longer bring back writes made since. ACCESS EXCLUSIVE on the tables for a moment.',
  changes: true, confirm: 'table-name',
  flags: [{ name: 'drop-old', type: 'boolean', help: 'also drop the old table (nothing that depends on it is dropped with it)' }],
  options: (flags) => ({ dropOld: Boolean(flags['drop-old']) }),
  question: (cfg, o) => `Finish: remove the capture machinery. ${o.dropOld ? `${cfg.schema}.${cfg.oldTable} is dropped` : `${cfg.schema}.${cfg.oldTable} is kept (back it up, drop it later)`}; after this, Rollback can no longer bring back writes made from now on.`,
  refuse(s) {
    if (s.phase === 'swapped' || s.phase === 'finished') return busyElsewhere(s);
    return `finish comes after the swap: ${s.table} is not swapped (${s.summary}); run swap first, or rollback to abandon`;
  },
  preview: async (p, _s, o) => (await import('../../steps/finish.js')).finishPreview(p, o ?? { dropOld: false }),
  run: async (ctx, o) => (await import('../../steps/finish.js')).runFinish(ctx, o),
});
