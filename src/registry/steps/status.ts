import { defineStep } from '../types.js';

/** partwise status: where the migration stands, from the journal and the catalog (any terminal sees the same). */
export const status = defineStep({
  id: 'status', command: 'status', title: 'Status',
  summary: 'where the migration stands: the phase, the copy\'s progress, each step, and what to do next',
  about: 'Reads the journal and the catalog: the phase, the copy\'s progress (or where it was interrupted), each step\'s state and ' +
    'the next step with its reason. Changes nothing. --json: the same as data.',
  changes: false, confirm: 'none', flags: [],
  options: () => ({}),
  run: async (ctx) => (await import('../../steps/status.js')).runStatus(ctx),
});
