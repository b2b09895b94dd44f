import { beforeCopy, busyElsewhere, sourceProblem } from '../refusals.js';
import { defineStep } from '../types.js';

const time = (iso: string) => new Date(iso).toTimeString().slice(0, 8);

/** 6 Swap: the verified copy in by rename, in one short transaction, with reverse capture so rollback loses nothing. */
export const swap = defineStep({
  id: 'swap', command: 'swap', key: '6', title: 'Swap',
  summary: 'swap the verified copy in by rename, carrying over every dependent object',
  about: 'In one transaction with a short lock_timeout, retried with backoff: renames the tables, carries over views, foreign keys, ' +
    'policies, grants, triggers and publications, applies the last captured changes. Takes ACCESS EXCLUSIVE on both tables for a moment.',
  changes: true, shortLockWait: true, confirm: 'table-name', flags: [],
  options: () => ({}),
  question: (cfg) => `Swap ${cfg.schema}.${cfg.newTable} in as ${cfg.schema}.${cfg.table}? The original becomes ${cfg.oldTable} and keeps receiving every write (reverse capture), so Rollback stays possible.`,
  refuse(s) {
    const problem = sourceProblem(s) ?? busyElsewhere(s);
    if (problem) return problem;
    // swapped already: the step itself finishes what a process that died after the commit left (foreign keys to validate)
    if (s.phase === 'swapped' || s.phase === 'finished') return null;
    const early = beforeCopy(s, 'swap');
    if (early) return early;
    const v = s.verification;
    if (v.state === 'ok') return null;
    if (v.state === 'failed') return 'the latest verify --data found differences: run migrate (it repairs the copy), then verify --data again';
    if (v.clearedBy === 'rollback') return `the rollback cleared the verification of ${v.at ? time(v.at) : 'the copy'}: run verify --data again, then swap`;
    if (v.clearedBy === 'migrate') return 'migrate ran after the latest verify --data: run verify --data again, then swap';
    return 'the data is not verified: run verify --data, then swap';
  },
  keys: [
    { keys: ['enter'], label: 'swap', help: 'swap the copy in (type the table name)', action: 'run' },
    { keys: ['f'], label: 'finish', help: 'finish: remove capture, keep the old table (after the swap)', action: 'finish' },
  ],
  preview: async (p) => (await import('../../steps/preview/switch.js')).swapPreview(p),
  run: async (ctx) => (await import('../../steps/swap.js')).runSwap(ctx),
});
