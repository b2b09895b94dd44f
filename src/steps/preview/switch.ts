/**
 * The previews of the swap and of the rollback: built from the same objects their runs execute. The swap's from
 * planSwap, swapSwitch and switchStatements (src/steps/switchTables.ts: the capture lock, the LOCK TABLE statements,
 * the replay, the statements, with the step's real lock_timeout); the rollback after the swap from the reverse the
 * swap journaled; before it from rollbackBeforeSwapStep.
 */
import type pg from 'pg';
import { takeSnapshot } from '../../catalog/snapshot.js';
import type { Snapshot, TableInfo } from '../../catalog/types.js';
import type { Config } from '../../config/config.js';
import type { RetryPolicy } from '../../exec/retry.js';
import { stepPart } from '../../exec/runStep.js';
import { Journal } from '../../journal/journal.js';
import { captureInstalled, captureIntegrity, captureTriggerStep, replayBatchStatements, type Direction } from '../../move/capture.js';
import { planSwap, type SwapPlan } from '../../plan/planSwap.js';
import { notePart, type PreviewContext, type ScriptPart } from '../../plan/script.js';
import type { LockInfo } from '../../plan/types.js';
import { smokeStatements } from '../smoke.js';
import { rollbackBeforeSwapStep, rollbackLocks, rollbackSwitch, rollbackTitle, swapRecordOf } from '../rollback.js';
import { analyzeStatement, DRAIN_LIMIT, isSwapped, readIdentityFloors, swapLocks, swapRecord, swapSwitch, swapTitle, validateStatement, type SwapJournal } from '../swap.js';
import { switchStatements, type TableSwitch } from '../switchTables.js';

type Policy = Pick<RetryPolicy, 'lockTimeoutMs'>;

function drainPart(snap: Snapshot, cfg: Config, direction: Direction): ScriptPart {
  return {
    title: `before the locks: the ${direction === 'forward' ? 'change log' : 'writes made since the swap'} applied in batches of ${DRAIN_LIMIT} entries, repeated while a batch comes back full ($1.. the logged keys, as text arrays)`,
    statements: replayBatchStatements(snap, cfg, direction, DRAIN_LIMIT), locks: [], notes: [],
  };
}

function switchPart(title: string, sw: TableSwitch, snap: Snapshot, cfg: Config, policy: Policy, locks: LockInfo[]): ScriptPart {
  return {
    title: `${title}: one transaction, retried with backoff when a lock is not free within lock_timeout`,
    statements: switchStatements(sw, snap, cfg, policy), locks,
    notes: [
      'after the SHARE UPDATE EXCLUSIVE lock: the last checks (catalog reads: capture\'s triggers, the structure); a problem rolls everything back',
      'the journal records the result in the same transaction, before COMMIT',
    ],
  };
}

/** After the commit: the moved foreign keys validated, the smoke check (rolled back), and for the swap ANALYZE. */
function afterParts(cfg: Config, validate: SwapJournal['validate'], live: TableInfo, analyze: boolean): ScriptPart[] {
  return [
    ...(validate.length ? [{ title: 'after the commit: the moved foreign keys validated (each alone; SHARE UPDATE EXCLUSIVE on the referencing table, writes go on)', statements: validate.map(validateStatement), locks: [], notes: [] }] : []),
    { title: `after the commit: the smoke check through ${cfg.table}, always rolled back`, statements: smokeStatements(cfg, live), locks: [], notes: ['then each dependent view and function is checked to read the table now behind the name (catalog reads)'] },
    ...(analyze ? [{ title: 'then the statistics of the partitioned table and its partitions', statements: [analyzeStatement(cfg)], locks: [], notes: [] }] : []),
  ];
}

/** The swap's plan as the run makes it now (snap taken before it): with the identity maxima it reads first. */
export async function planSwapNow(client: pg.ClientBase, snap: Snapshot, cfg: Config): Promise<SwapPlan> {
  return planSwap(snap, cfg, { identityFloors: await readIdentityFloors(client, snap, cfg) });
}

/** The swap as it would run (snap taken before it), from planSwapNow's plan. */
export function swapParts(snap: Snapshot, cfg: Config, policy: Policy, plan: SwapPlan): ScriptPart[] {
  const main = switchPart(swapTitle(cfg), swapSwitch(snap, cfg, plan), snap, cfg, policy, swapLocks(cfg, plan));
  return [
    drainPart(snap, cfg, 'forward'),
    { ...main, notes: [...main.notes, ...plan.notes] },
    ...afterParts(cfg, swapRecord(snap, cfg, plan).validate, snap.target!, true),
  ];
}

/**
 * The rollback after the swap, from the swap's record (journaled, or for `plan` the one the swap would journal):
 * `snap` shows the tables (taken before or after the swap), `original` the table that is behind cfg.table again.
 */
export function rollbackAfterSwapParts(snap: Snapshot, cfg: Config, policy: Policy, record: SwapJournal, migrationId: number, original: TableInfo): ScriptPart[] {
  return [
    drainPart(snap, cfg, 'reverse'),
    switchPart(rollbackTitle(cfg), rollbackSwitch(cfg, snap, record, migrationId), snap, cfg, policy, rollbackLocks(cfg)),
    ...afterParts(cfg, record.validate, original, false),
  ];
}

export async function swapPreview(p: PreviewContext): Promise<ScriptPart[]> {
  const snap = await takeSnapshot(p.client, p.cfg);
  if (isSwapped(snap) || snap.source?.relkind === 'p') return [notePart('the swap is done: Rollback (R) shows the statements that swap back')];
  return swapParts(snap, p.cfg, p.retry, await planSwapNow(p.client, snap, p.cfg));
}

export async function rollbackPreview(p: PreviewContext): Promise<ScriptPart[]> {
  const { client, cfg } = p;
  const snap = await takeSnapshot(client, cfg);
  const journal = await Journal.find(client, cfg);
  if (!isSwapped(snap)) {
    if (snap.source?.relkind === 'p') return [notePart(`${cfg.table} is partitioned and ${cfg.oldTable} is gone (finish --drop-old): nothing to roll back to`)];
    if (!journal) return [notePart('nothing partwise made is here: nothing to roll back')];
    return [stepPart(rollbackBeforeSwapStep(snap, cfg, journal.migrationId), p.retry)];
  }
  const record = journal ? await swapRecordOf(journal) : null;
  if (!journal || !record) return [notePart('the journal has no record of the swap\'s reverse: rollback refuses')];
  if (!(await captureInstalled(client, cfg, 'reverse'))) return [notePart('reverse capture is not installed (finish ran): rollback refuses, it would lose the writes made since')];
  const bypassed = await captureIntegrity(client, cfg, 'reverse');
  const resync = bypassed.length
    ? [stepPart(captureTriggerStep(cfg, 'reverse'), p.retry), notePart(`then every program whose rows differ is copied again into ${cfg.oldTable} (${bypassed.join('; ')})`)]
    : [];
  return [...resync, ...rollbackAfterSwapParts(snap, cfg, p.retry, record, journal.migrationId, snap.old!)];
}
