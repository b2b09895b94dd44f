import { busyElsewhere, nextWords, sourceProblem, swapped } from '../refusals.js';
import { defineStep } from '../types.js';

/** 2 Create: the partitioned table, its partitions and indexes, while empty. */
export const create = defineStep({
  id: 'create', command: 'create', key: '2', title: 'Create',
  summary: 'create the partitioned table, its partitions and indexes',
  about: 'Creates the partitioned table with one partition per lookup row plus the default, RLS, grants and indexes, while it ' +
    'is empty. Locks only the new table (ACCESS EXCLUSIVE); the source is not touched. A table whose foreign key into the source lacks the key ' +
    'gets the key column (nullable: instant) and a trigger that fills it (ACCESS EXCLUSIVE on it for a moment). Each statement has a short lock_timeout and retries.',
  changes: true, confirm: 'y', flags: [],
  options: () => ({}),
  question: (cfg, _o, s) => `Create ${cfg.schema}.${cfg.newTable} with its partitions and indexes? The source ${cfg.schema}.${cfg.table} is not changed` +
    `${s.children.length ? `; ${s.children.map((c) => c.child).join(', ')} get${s.children.length === 1 ? 's' : ''} the column ${cfg.key} and a trigger that fills it` : ''}. (s shows the SQL first)`,
  refuse(s) {
    const problem = sourceProblem(s) ?? busyElsewhere(s);
    if (problem) return problem;
    if (swapped(s)) return `${s.table} is already the partitioned table (the swap happened): nothing to create; ${nextWords(s)}`;
    // create again continues a create that failed or stopped half-way, and adds what is missing while nothing is
    // copied; once the copy has started it would start a new one over it
    if (s.catalog.target && (s.copy || s.phase === 'rolled-back'))
      return `${s.newTable} is already created and the copy has started (${s.summary}); ${nextWords(s)}. To start over: rollback, then create`;
    return null;
  },
  keys: [{ keys: ['enter'], label: 'create', help: 'create the partitioned table (asks y)', action: 'run' }],
  preview: async (p) => (await import('../../steps/preview/setup.js')).createPreview(p),
  run: async (ctx) => (await import('../../steps/create.js')).runCreate(ctx),
});
