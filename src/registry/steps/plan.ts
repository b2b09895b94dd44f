import { defineStep } from '../types.js';

/** partwise plan: the whole migration as one script (stdout), for review before anything runs. */
export const plan = defineStep({
  id: 'plan', command: 'plan', title: 'Plan',
  summary: 'the whole plan as one reviewable SQL script',
  about: 'Prints the SQL of every step as one script on stdout, a comment heading per step with the locks it takes; with --json, ' +
    'the steps as data. Reads the catalog only.',
  changes: false, confirm: 'none', flags: [],
  options: (flags) => ({ json: Boolean(flags.json) }),
  async run(ctx, o) {
    const r = await (await import('../../steps/plan.js')).runPlan(ctx);
    if (!o.json) ctx.emit({ type: 'script', sql: (r.data as { script: string }).script });
    return r;
  },
});
