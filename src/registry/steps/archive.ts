import { manifestPath } from '../../archive/manifest.js';
import { ArchiveRefused, planArchive } from '../../archive/planArchive.js';
import { notePart } from '../preview.js';
import { busyElsewhere, sourceProblem } from '../refusals.js';
import { stringFlag, UsageError } from '../flags.js';
import { defineStep } from '../types.js';

/** archive (a on Monitor): one program's partition detached, written to a verified file, then dropped. */
export const archive = defineStep({
  id: 'archive', command: 'archive', title: 'Archive', stateOf: 'monitor',
  summary: 'detach one program\'s partition, write it to a verified gzip file with a manifest, then drop it',
  about: 'Detaches the program\'s partition (CONCURRENTLY when the table has no default partition, otherwise a plain DETACH of an instant under ' +
    'lock_timeout, retried), streams its rows with COPY into PATH (gzip) and PATH.manifest.json (count, checksum, columns, versions), reads ' +
    'the file back and compares, and only then drops the detached table (--keep-table keeps it). The lookup row stays: the program\'s new ' +
    'rows go to the default partition until restore. An interrupted run is continued by running it again.',
  changes: true, confirm: 'table-name',
  flags: [
    { name: 'program', type: 'string', value: 'ID|LABEL', help: 'the program to archive, by key or label (key:K / label:L when both could match)' },
    { name: 'to', type: 'string', value: 'PATH', help: 'the archive file (gzip COPY text); its manifest is PATH.manifest.json. Never overwritten' },
    { name: 'keep-table', type: 'boolean', help: 'keep the detached table instead of dropping it after the file is verified' },
  ],
  options(flags) {
    const program = stringFlag(flags, 'program');
    if (!program) throw new UsageError('--program ID|LABEL is required: the program to archive');
    return { program, to: stringFlag(flags, 'to'), keepTable: Boolean(flags['keep-table']) };
  },
  question: (cfg, o) => `Archive ${o.program}: detach its partition from ${cfg.schema}.${cfg.table}, write its rows to ${o.to ?? '(the path of the interrupted run)'}, verify the file, then ${o.keepTable ? 'keep' : 'DROP'} the detached table? New rows of this program go to the default partition until restore.`,
  refuse(s) {
    if (s.phase === 'finished') return busyElsewhere(s);
    if (s.phase === 'swapped')
      return 'archive comes after finish: while reverse change capture keeps the old table in step, a rollback would bring the archived rows back into the live table. Run finish first';
    return sourceProblem(s) ?? `archive works on the partitioned table after the swap and finish (${s.summary})`;
  },
  async preview({ client, cfg }, _s, o) {
    if (!o) return [notePart('archive', 'per program: DETACH PARTITION (CONCURRENTLY without a default partition), COPY ... TO STDOUT into a gzip file, read back and compared, DROP TABLE')];
    try {
      const p = await planArchive(client, cfg, o.program, o.to);
      return [
        { title: `detach: ${p.detach.why}`, statements: [p.detach.statement], locks: p.detach.locks, notes: [] },
        { title: `write ${p.path} (gzip) on one REPEATABLE READ snapshot with the server's count and checksum; manifest ${manifestPath(p.path)}`, statements: [p.copy], locks: [], notes: ['the file is read back into a temporary table and its count and checksum compared before anything is dropped'] },
        { title: o.keepTable ? 'keep the detached table (--keep-table)' : 'drop the detached table', statements: o.keepTable ? [] : [p.drop], locks: [], notes: [] },
      ];
    } catch (e) {
      if (e instanceof ArchiveRefused) return [notePart(`archive refused: ${e.message}`)];
      throw e;
    }
  },
  run: async (ctx, o) => (await import('../../steps/archive.js')).runArchive(ctx, o),
});
