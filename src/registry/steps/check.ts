import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot, sqlFile } from '../../sqlFiles.js';
import { notePart } from '../preview.js';
import { defineStep } from '../types.js';

/** 1 Prerequisites: reads only; journals nothing (the app keeps its last result). */
export const check = defineStep({
  id: 'check', command: 'check', key: '1', title: 'Prerequisites', short: 'Prereqs',
  summary: 'prerequisites, each ok / warn / fail with what to do',
  about: 'Reads the catalog only: server version, privileges, keys, constraints, foreign keys, dependent objects, triggers, ' +
    'timeouts, long transactions and free space. Takes no lock beyond ACCESS SHARE and changes nothing.',
  changes: false, confirm: 'none', flags: [],
  options: () => ({}),
  keys: [{ keys: ['enter'], label: 'check', help: 'run the checks again', action: 'run' }],
  async preview() {
    const dir = join(packageRoot(), 'sql', 'catalog');
    const files = readdirSync(dir).filter((f) => f.endsWith('.sql')).sort();
    return [
      notePart('check reads the catalog only (one snapshot), with these queries'),
      ...files.map((f) => ({ title: `sql/catalog/${f}`, statements: [sqlFile(`catalog/${f}`).trim().replace(/;$/, '')], locks: [], notes: [] })),
    ];
  },
  run: async (ctx) => (await import('../../steps/check.js')).runCheck(ctx),
});
