import { sqlFile } from '../../sqlFiles.js';
import { notePart } from '../preview.js';
import { beforeCopy, nextWords, sourceProblem, swapped } from '../refusals.js';
import { defineStep } from '../types.js';

/** 3 Verify: the structure (enter), or with --data (d) every program's rows, counted and checksummed on both sides. */
export const verify = defineStep({
  id: 'verify', command: 'verify', key: '3', title: 'Verify',
  summary: 'compare the created structure with the source (--data: rows and checksums)',
  about: 'Compares the new structure with the source: partitions and bounds, columns, constraints, indexes, RLS and grants, ' +
    'schema drift. `d` (--data) compares the data instead: row counts and checksums per program, in one snapshot, after applying ' +
    'the captured changes. Reads only (--data applies pending captured changes to the copy first).',
  changes: false, confirm: 'none',
  flags: [{ name: 'data', type: 'boolean', help: 'compare the data: row count and checksum of every column per program, both sides in one snapshot' }],
  options: (flags) => ({ data: Boolean(flags.data) }),
  refuse(s, o) {
    const problem = sourceProblem(s);
    if (problem) return problem;
    if (swapped(s)) return `the swap happened: verify compares the copy with the source before the swap; ${nextWords(s)}`;
    if (!o.data) return s.catalog.target ? null : `nothing to verify yet: run create first`;
    return beforeCopy(s, 'verify');
  },
  keys: [
    { keys: ['enter'], label: 'structure', help: 'compare the structure', action: 'run' },
    { keys: ['d'], label: 'data', help: 'compare the data (counts and checksums per program)', action: 'data' },
  ],
  async preview() {
    return [
      notePart('verify reads the catalog (the same queries as check) and compares the new table with the source'),
      {
        title: 'verify --data (key d): per program, in one REPEATABLE READ snapshot, count(*) and an order-independent checksum of every copied column, on both tables; columns are hashed as text where needed',
        statements: [sqlFile('checksum/hashable.sql').trim().replace(/;$/, '')], locks: [], notes: [],
      },
    ];
  },
  async run(ctx, o) {
    if (o.data) return (await import('../../steps/verifyData.js')).runVerifyData(ctx);
    return (await import('../../steps/verify.js')).runVerify(ctx);
  },
});
