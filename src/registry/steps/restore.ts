import { readManifest } from '../../archive/manifest.js';
import { absolutePath } from '../../archive/planArchive.js';
import { planRestore, RestoreRefused } from '../../archive/planRestore.js';
import { stringFlag, UsageError } from '../flags.js';
import { notePart } from '../preview.js';
import { busyElsewhere, sourceProblem } from '../refusals.js';
import { defineStep } from '../types.js';

/** restore: an archived program's partition back from its file, checked before and after the load. */
export const restore = defineStep({
  id: 'restore', command: 'restore', title: 'Restore', stateOf: 'monitor',
  summary: 'bring an archived program\'s partition back from its file (checked before anything changes)',
  about: 'Checks the manifest and the file\'s SHA-256, size and rows first (a damaged or edited archive is refused, nothing changed). Then in ' +
    'one transaction creates the partition as a table of its own (the parent\'s columns, indexes, RLS, policies, grants, a CHECK matching the ' +
    'bound) and loads it with COPY, comparing count and checksum with the manifest. Then, briefly under lock_timeout, moves the program\'s ' +
    'rows out of the default partition and attaches it (SHARE UPDATE EXCLUSIVE on the table, ACCESS EXCLUSIVE on the default partition).',
  changes: true, confirm: 'table-name',
  flags: [{ name: 'from', type: 'string', value: 'PATH', help: 'the archive file written by partwise archive (its manifest is PATH.manifest.json)' }],
  options(flags) {
    const from = stringFlag(flags, 'from');
    if (!from) throw new UsageError('--from PATH is required: the archive file to restore');
    return { from };
  },
  question: (cfg, o) => `Restore ${o.from} into ${cfg.schema}.${cfg.table} as a partition again?`,
  refuse(s) {
    if (s.phase === 'finished') return busyElsewhere(s);
    return sourceProblem(s) ?? `restore works on the partitioned table after the swap and finish (${s.summary})`;
  },
  async preview({ client, cfg }, _s, o) {
    if (!o) return [notePart('restore', 'check the file; CREATE TABLE (LIKE the parent) with CHECK (key = X) and security, COPY FROM STDIN, count and checksum; then move the default partition\'s rows of X and ATTACH PARTITION')];
    const m = readManifest(absolutePath(o.from));
    if (typeof m === 'string') return [notePart(`restore refused: ${m}`)];
    try {
      const p = await planRestore(client, cfg, m);
      return [
        { title: 'create and load the table of its own (one transaction: a mismatch rolls it all back)', statements: p.loaded ? [] : [...p.create, p.copy], locks: [], notes: p.loaded ? ['loaded by an interrupted run: checked again, then attached'] : ['count and checksum compared with the manifest before the commit'] },
        { title: 'attach (lock_timeout per attempt, retried)', statements: p.attach.statements, locks: p.attach.locks, notes: [] },
      ];
    } catch (e) {
      if (e instanceof RestoreRefused) return [notePart(`restore refused: ${e.message}`)];
      throw e;
    }
  },
  run: async (ctx, o) => (await import('../../steps/restore.js')).runRestore(ctx, o),
});
