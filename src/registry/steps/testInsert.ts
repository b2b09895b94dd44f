import { UsageError, intFlag, stringFlag } from '../flags.js';
import { notePart } from '../preview.js';
import { busyElsewhere, sourceProblem, swapped } from '../refusals.js';
import { defineStep } from '../types.js';

/** 4 Test insert: a sample of one program in the new table, and the query plans of both tables compared. */
export const testInsert = defineStep({
  id: 'test-insert', command: 'test-insert', key: '4', title: 'Test insert', short: 'Test',
  summary: 'copy a sample of one program and compare the query plans on both tables',
  about: 'Copies a sample of the largest program into the new table, compares the query plans on both tables (EXPLAIN ANALYZE: ' +
    'time, buffers, partitions scanned) and removes the sample. ROW EXCLUSIVE on the new partition only.',
  changes: true, confirm: 'y',
  flags: [
    { name: 'program', type: 'string', value: 'ID|LABEL', help: 'the program to sample (its key or its label; default the largest)' },
    { name: 'rows', type: 'string', value: 'N', help: 'rows in the sample (default 100)' },
    { name: 'keep', type: 'boolean', help: 'leave the sample in the new table' },
  ],
  options(flags) {
    const rows = intFlag(flags, 'rows', 1, 100_000) ?? 100;
    if (flags.keep !== undefined && typeof flags.keep !== 'boolean') throw new UsageError('--keep takes no value');
    return { program: stringFlag(flags, 'program'), rows, keep: Boolean(flags.keep) };
  },
  question: (cfg, o) => `Copy a sample of ${o.rows} rows of ${o.program ?? 'the largest program'} into ${cfg.schema}.${cfg.newTable}, compare the query plans, then ${o.keep ? 'keep' : 'remove'} the sample?`,
  refuse(s) {
    const problem = sourceProblem(s) ?? busyElsewhere(s);
    if (problem) return problem;
    if (!s.catalog.target && !swapped(s)) return `nothing to insert into yet: run create first`;
    return null;
  },
  keys: [{ keys: ['enter'], label: 'test insert', help: 'copy a sample and compare the plans (asks y)', action: 'run' }],
  async preview() {
    return [notePart('test-insert',
      'copies a sample of one program into its partition with an explicit column list (OVERRIDING SYSTEM VALUE for identity',
      'columns), runs EXPLAIN (ANALYZE, BUFFERS) of the comparison query on both tables, then deletes the sample.',
      'The statements it ran are listed under "Ran" after it finishes.')];
  },
  run: async (ctx, o) => (await import('../../steps/testInsert.js')).runTestInsert(ctx, o),
});
