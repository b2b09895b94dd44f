/**
 * The previews of create and of migrate's set-up: the same planned steps their runs execute (planCreate,
 * captureSetupSteps), as runStep sends them (src/exec/runStep.ts stepStatements), with the step's real lock_timeout.
 */
import { takeSnapshot } from '../../catalog/snapshot.js';
import type { Snapshot } from '../../catalog/types.js';
import { stepPart } from '../../exec/runStep.js';
import { captureInstalled, captureIntegrity, captureSetupSteps, replayBatchStatements } from '../../move/capture.js';
import { DEFAULT_CONTROLS, readControls } from '../../move/control.js';
import { carriedChildren, planCreate } from '../../plan/planCreate.js';
import { backfillBatchSql, childIndexStep, childSyncStep } from '../../plan/carryChildren.js';
import { qname } from '../../db/quote.js';
import { buildIndexStep, buildIndexSteps, deferIndexesStep, deferrableIndexes } from '../../plan/deferIndexes.js';
import { Journal } from '../../journal/journal.js';
import { readCheckpoints } from '../../move/copy.js';
import { notePart, only, sqlOf, type PreviewContext, type ScriptPart } from '../../plan/script.js';

export async function createPreview(p: PreviewContext): Promise<ScriptPart[]> {
  const plan = planCreate(await takeSnapshot(p.client, p.cfg), p.cfg);
  return plan.steps.map((st) => stepPart(st, p.retry));
}

/** The title every part of migrate's set-up starts with (the tests compare these parts with what migrate sends). */
export const SETUP = 'set-up';

/** `mode` unknown (the app's pane, before the mode is chosen): mode all's own parts are shown as "only with --mode all". */
export async function migratePreview(p: PreviewContext, mode?: string): Promise<ScriptPart[]> {
  const snap = await takeSnapshot(p.client, p.cfg);
  const deferring: Deferring = (mode === undefined || mode === 'all') && !(await copyAllDone(p)) ? (mode === undefined ? 'if all' : true) : false;
  return [
    ...(await migrateSetupParts(p, snap, deferring)), ...copyParts(p, snap, (await readControls(p.client, p.cfg)).batchSize),
    ...indexBuildParts(p, snap, deferring), ...childParts(p, snap),
  ];
}

/** Whether mode all's pass is done (the copy's indexes are then not deferred: src/plan/deferIndexes.ts). */
export async function copyAllDone(p: PreviewContext): Promise<boolean> {
  const journal = await Journal.find(p.client, p.cfg);
  return journal ? (await readCheckpoints(p.client, journal.migrationId)).some((c) => c.scope === 'all' && c.done) : false;
}

/**
 * After the copy: the non-unique indexes the copy lacks built from the copied rows, one transaction each (with
 * `deferring`, mode all's: also those its set-up drops).
 */
export function indexBuildParts(p: PreviewContext, snap: Snapshot, deferring: Deferring): ScriptPart[] {
  const missing = buildIndexSteps(snap, p.cfg).map((st) => ({ st, ifAll: false }));
  const dropped = deferring ? deferrableIndexes(snap, p.cfg).map((d) => ({ st: buildIndexStep(p.cfg, d), ifAll: deferring === 'if all' })) : [];
  return [...dropped, ...missing].map(({ st, ifAll }) => {
    const part = onlyIfAll(stepPart(st, p.retry), ifAll);
    return { ...part, title: `after the copy: ${part.title}${p.cfg.workers > 1 ? ` (with --workers N, N indexes at once, each on its own session)` : ''}` };
  });
}

/** Whether mode all's set-up drops the secondary indexes: yes, no, or only if the mode chosen is all. */
export type Deferring = boolean | 'if all';
const ONLY_ALL = 'the copy runs with --mode all and its pass has not started yet';
const onlyIfAll = (part: ScriptPart, ifAll: boolean): ScriptPart => (ifAll ? { ...part, statements: only(ONLY_ALL, part.statements.map(sqlOf)) } : part);

export async function migrateSetupParts(p: PreviewContext, snap: Snapshot, deferring: Deferring = false): Promise<ScriptPart[]> {
  const defer = deferring ? deferIndexesStep(snap, p.cfg) : null;
  const deferPart = defer ? [{ ...onlyIfAll(stepPart(defer, p.retry), deferring === 'if all'), title: `${SETUP}: ${defer.title}` }] : [];
  const installed = await captureInstalled(p.client, p.cfg, 'forward');
  const bypassed = installed ? await captureIntegrity(p.client, p.cfg, 'forward') : [];
  if (installed && !bypassed.length) return [notePart(`${SETUP}: change capture is installed and has captured every write since: nothing to install`), ...deferPart];
  const [prepare, triggers] = captureSetupSteps(snap, p.cfg).map((st) => stepPart(st, p.retry));
  return [
    ...(bypassed.length ? [notePart(`${SETUP}: ${bypassed.join('; ')}`, 'capture is installed again; a copy that had started is emptied (TRUNCATE) and starts over, a complete one has every program whose checksum differs copied again')] : []),
    { ...prepare!, title: `${SETUP}: change capture, part 1: ${prepare!.title} (no lock on the table)` },
    { ...triggers!, title: `${SETUP}: change capture, part 2: ${triggers!.title}, before the first row is copied` },
    ...deferPart,
  ];
}

/** The copy: its batches are planned while it runs (the block ranges); the replay between them is sent as shown. */
export function copyParts(p: PreviewContext, snap: Snapshot, batchSize: number | null): ScriptPart[] {
  return [
    notePart('then the copy',
      'batches: INSERT INTO the new table (explicit columns) SELECT ... FROM ONLY the source over a range of heap blocks, each batch one',
      'transaction (ROW EXCLUSIVE on the new table) with its checkpoint in partwise.copy_checkpoint and the capture lock in share mode',
      '(with --workers N, N sessions copy at once; each replay takes the capture lock alone).'),
    {
      title: 'between the batches: the change log replayed into the new table, in batches like this one ($1.. the logged keys, as text arrays)',
      statements: replayBatchStatements(snap, p.cfg, 'forward', Math.max(batchSize ?? DEFAULT_CONTROLS.batchSize, 1000)), locks: [],
      notes: ['rows without a key stop the replay with their primary keys named (a read before the DELETE)'],
    },
  ];
}

/**
 * After the copy, for the tables whose foreign key lacks the key (src/steps/migrateChildren.ts): the source's
 * key-following trigger, then per child its back-fill batches and the index on (fk columns, key) CONCURRENTLY.
 */
export function childParts(p: PreviewContext, snap: Snapshot): ScriptPart[] {
  const carries = carriedChildren(snap, p.cfg);
  if (!carries.length) return [];
  const source = qname(p.cfg.schema, p.cfg.table);
  const sync = stepPart(childSyncStep(carries, p.cfg), p.retry);
  return [
    sync,
    ...carries.map((c): ScriptPart => {
      const ix = childIndexStep(c, snap.children.find((x) => x.schema === c.fk.fromSchema && x.table === c.fk.fromTable));
      const index = stepPart(ix, p.retry);
      return {
        title: `back-fill ${c.column} of ${c.fk.fromSchema}.${c.fk.fromTable}, then ${ix.done ? 'its index exists already' : ix.title.charAt(0).toLowerCase() + ix.title.slice(1)}`,
        statements: [...only('each range of the child\'s heap blocks ($1, $2), one transaction with its checkpoint', [backfillBatchSql(c, source)]), ...index.statements],
        locks: ix.locks,
        notes: ['throttled by the copy\'s controls (batch size, rate, sleep, pause); the index CONCURRENTLY, outside a transaction'],
      };
    }),
  ];
}
