import { notePart } from '../preview.js';
import { busyElsewhere, noPartitionedTable } from '../refusals.js';
import { defineStep } from '../types.js';

/** maintain (from Monitor): partitions for new lookup rows, their rows moved out of the default partition. */
export const maintain = defineStep({
  id: 'maintain', command: 'maintain', title: 'Maintain', stateOf: 'maintain',
  summary: 'create partitions for lookup rows that have none, move their rows out of the default partition',
  about: 'For each lookup row without a partition: creates it as a standalone table with a validated CHECK, moves the key\'s rows out of ' +
    'the default partition and attaches it (ACCESS EXCLUSIVE on the default partition for a moment, under lock_timeout).',
  changes: true, confirm: 'y', flags: [],
  options: () => ({}),
  question: (cfg) => `Create the missing partitions of ${cfg.schema}.${cfg.table}'s partitioned table and move their rows out of the default partition?`,
  refuse(s) {
    if (s.catalog.source === 'p' || s.catalog.target) return busyElsewhere(s);
    return noPartitionedTable(s, 'maintain');
  },
  async preview() {
    return [notePart('maintain', 'per missing partition: CREATE TABLE ... (LIKE the parent) with CHECK (key = X), the partitions\' RLS, policies and grants;',
      'then in one transaction under lock_timeout: the default locked, its X rows moved (DELETE ... RETURNING into the new table), ATTACH PARTITION.')];
  },
  run: async (ctx) => (await import('../../steps/maintain.js')).runMaintain(ctx),
});
