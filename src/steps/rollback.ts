/**
 * partwise rollback.
 * Before the swap: drops the new table (with its partitions), the auto-partition trigger and the capture machinery;
 * the source is exactly as it was, and the copy's journal (checkpoints, verifications) is cleared so a later
 * create + migrate starts from scratch.
 * After the swap: swaps back with the same care as the swap (one transaction, lock_timeout, retries): applies every
 * write made since the swap to the original (reverse replay), runs the reverse the swap journaled, and re-installs
 * forward capture. End state: "migrated, not swapped" — the partitioned copy is in sync and captured, verify --data
 * and swap can run again, or rollback again to remove it.
 */
import { TransactionFailed, transactionFailure } from '../exec/retry.js';
import { runReported } from '../exec/runReported.js';
import { takeSnapshot } from '../catalog/snapshot.js';
import { qname } from '../db/quote.js';
import { EXIT } from '../events.js';
import { Journal } from '../journal/journal.js';
import { captureInstalled, captureIntegrity, captureRemovalStatements, captureTriggerStep } from '../move/capture.js';
import { recopyDiffering } from '../move/recopy.js';
import { runAnnounced } from '../exec/runStep.js';
import { planRollbackBeforeSwap } from '../plan/planRollback.js';
import type { Step } from '../plan/types.js';
import type { StepContext, StepResult } from './context.js';
import { afterSwitch, drainBeforeLock, isSwapped, refusalUnderLocks, type SwapJournal } from './swap.js';
import { reverseColumnProblems, rollbackGate } from './switchGate.js';
import { switchTables, type TableSwitch } from './switchTables.js';
import type { Snapshot } from '../catalog/types.js';
import type { Config } from '../config/config.js';
import type { LockInfo } from '../plan/types.js';

/** The copy's progress and verifications belong to the table that is being dropped. */
function clearCopyJournal(migrationId: number): string[] {
  const id = Math.trunc(migrationId);
  return [
    `DELETE FROM partwise.copy_checkpoint WHERE migration_id = ${id}`,
    `DELETE FROM partwise.copy_progress WHERE migration_id = ${id}`,
    `DELETE FROM partwise.data_verification WHERE migration_id = ${id}`,
    `DELETE FROM partwise.latency_probe WHERE migration_id = ${id}`,
    `DELETE FROM partwise.child_backfill WHERE migration_id = ${id}`,
  ];
}

/** Rollback before the swap as one step: everything partwise added dropped, and the copy's journal cleared. */
export function rollbackBeforeSwapStep(snap: Snapshot, cfg: Config, migrationId: number): Step {
  const plan = planRollbackBeforeSwap(snap, cfg);
  return {
    id: 'rollback', phase: 'rollback', title: `Remove ${cfg.newTable}, its partitions and the capture machinery`,
    statements: [...plan.statements, ...clearCopyJournal(migrationId)], locks: plan.locks, transactional: true,
    reverse: [], done: false, notes: [],
  };
}

/**
 * Rollback after the swap's switch (src/steps/switchTables.ts): reverse capture removed, the reverse the swap
 * journaled, forward capture installed again, the verification cleared.
 */
export function rollbackSwitch(cfg: Config, snap: Snapshot, record: Pick<SwapJournal, 'reverse' | 'forwardCapture' | 'locks' | 'validate'>, migrationId: number): TableSwitch {
  return {
    direction: 'reverse', idle: qname(cfg.schema, cfg.oldTable), live: qname(cfg.schema, cfg.table), alsoLocked: reverseLocks(record),
    deadlockTimeoutMs: snap.server.deadlockTimeoutMs,
    statements: [
      ...captureRemovalStatements(cfg, 'reverse'), ...record.reverse, ...record.forwardCapture,
      // the copy is in sync again, but verification must be redone before the next swap
      `DELETE FROM partwise.data_verification WHERE migration_id = ${Math.trunc(migrationId)}`,
    ],
  };
}

/**
 * The relations the journaled reverse changes besides the two tables: the swap's own list (the tables whose foreign
 * keys moved; views are locked by their own statements), or for a record written without it, the foreign keys to validate.
 */
function reverseLocks(record: Pick<SwapJournal, 'locks' | 'validate'>): LockInfo[] {
  if (record.locks) return record.locks;
  return [
    ...(record.validate ?? []).map((f): LockInfo => ({ mode: 'ACCESS EXCLUSIVE', on: f.table, why: `foreign key ${f.name} moved back` })),
  ];
}

export function rollbackLocks(cfg: Config): LockInfo[] {
  return [
    { mode: 'ACCESS EXCLUSIVE', on: qname(cfg.schema, cfg.table), why: 'SHARE UPDATE EXCLUSIVE first (no DDL; reads and writes go on) for the last checks, then, after the old table\'s ACCESS EXCLUSIVE, ACCESS EXCLUSIVE while the last writes are copied back and for the renames (each wait bounded below deadlock_timeout)' },
    { mode: 'ACCESS EXCLUSIVE', on: qname(cfg.schema, cfg.oldTable), why: 'renamed back' },
  ];
}

export const rollbackTitle = (cfg: Config) => `Swap back: ${cfg.oldTable} becomes ${cfg.table} again (with every write made since the swap)`;

/** The swap's journaled record (its reverse), or null when there is none to swap back with. */
export async function swapRecordOf(journal: Journal): Promise<SwapJournal | null> {
  const swap = (await journal.latest()).find((s) => s.step === 'swap');
  const record = swap?.status === 'done' ? (swap.detail as unknown as Partial<SwapJournal>) : undefined;
  if (!record?.reverse || !record.forwardCapture) return null;
  return { reverse: record.reverse, forwardCapture: record.forwardCapture, validate: record.validate ?? [], dependents: record.dependents ?? [], ...(record.locks ? { locks: record.locks } : {}) };
}

export async function runRollback(ctx: StepContext): Promise<StepResult> {
  const snap = await takeSnapshot(ctx.client, ctx.cfg);
  if (isSwapped(snap)) return rollbackAfterSwap(ctx);
  return rollbackBeforeSwap(ctx);
}

async function rollbackBeforeSwap(ctx: StepContext): Promise<StepResult> {
  const { client, cfg, emit } = ctx;
  const snap = await takeSnapshot(client, cfg);
  if (!snap.source) return { ok: false, exitCode: EXIT.failed, summary: `${cfg.schema}.${cfg.table} does not exist; nothing was changed` };
  if (snap.source.relkind === 'p')
    return { ok: false, exitCode: EXIT.failed, summary: `${cfg.schema}.${cfg.table} is partitioned but ${cfg.schema}.${cfg.oldTable} does not exist: the swap was finished with --drop-old (or the old table was dropped), nothing to roll back to; nothing was changed` };
  const journal = await Journal.open(client, cfg);
  const step = rollbackBeforeSwapStep(snap, cfg, journal.migrationId);
  const logId = await journal.start('rollback', { swapped: false });
  const err = await runReported(client, step, ctx.retry, emit, { unchanged: 'the rollback transaction was rolled back: everything is as before it', again: 'partwise rollback --yes' });
  if (err) {
    await journal.finish(logId, 'failed', err.message);
    return { ok: false, exitCode: EXIT.failed, summary: `rollback failed: ${err.message}`, data: { error: err } };
  }
  await journal.finish(logId, 'done');
  return { ok: true, exitCode: EXIT.ok, summary: `rolled back: ${cfg.newTable}, its partitions and partwise's triggers are gone; ${cfg.schema}.${cfg.table} is as it was` };
}

async function rollbackAfterSwap(ctx: StepContext): Promise<StepResult> {
  const { client, cfg, emit } = ctx;
  const snap = await takeSnapshot(client, cfg);
  const journal = await Journal.open(client, cfg);
  const record = await swapRecordOf(journal);
  if (!record)
    return { ok: false, exitCode: EXIT.failed, summary: `the journal has no record of the swap's reverse (schema partwise was dropped or the swap was made by another tool); nothing was changed` };
  if (!(await captureInstalled(client, cfg, 'reverse')))
    return {
      ok: false, exitCode: EXIT.failed,
      summary: `reverse capture is not installed (partwise finish ran): ${cfg.oldTable} lacks the writes made since then, and swapping back would lose them; nothing was changed`,
    };

  // before anything: rows copied back by the columns both tables have must not lose a column's values
  const columns = snap.old && snap.source ? reverseColumnProblems(snap.old, snap.source, cfg) : [];
  if (columns.length) return { ok: false, exitCode: EXIT.checksFailed, summary: `rollback refused: ${columns.join('; ')}. Then run partwise rollback again; nothing was changed` };
  // reverse capture that was off for a while: installed again, then every program whose rows differ is copied back
  const bypassed = await captureIntegrity(client, cfg, 'reverse');
  let resynced: string[] = [];
  if (bypassed.length) {
    emit({ type: 'warn', message: `${bypassed.join('; ')}: reverse capture is installed again, then every program whose rows differ is copied again into ${cfg.oldTable}` });
    const step = captureTriggerStep(cfg, 'reverse');
    await runAnnounced(client, step, ctx.retry, emit);
    resynced = await recopyDiffering(client, snap, cfg, 'reverse', emit);
  }

  const title = rollbackTitle(cfg);
  const logId = await journal.start('rollback', { swapped: true });
  const sw = rollbackSwitch(cfg, snap, record, journal.migrationId);
  emit({ type: 'step.start', step: 'rollback', title, statements: sw.statements, locks: rollbackLocks(cfg) });
  const t0 = Date.now();
  // the writes logged since the swap are copied back before the locks; under them only the last moment's remain
  let predrained: number;
  let replayed: number;
  try {
    predrained = await drainBeforeLock(client, snap, cfg, 'reverse');
    ({ replayed } = await switchTables(ctx, snap, cfg, 'rollback', sw, {
      gate: rollbackGate(cfg),
      record: (n) => journal.finish(logId, 'done', undefined, { replayed: n }),
    }));
  } catch (e) {
    const unchanged = `the transaction was rolled back: ${cfg.table} is still the partitioned table and ${cfg.oldTable} keeps receiving every write`;
    const refusedInside = refusalUnderLocks(e);
    if (refusedInside) {
      const message = `rollback refused under its locks: ${refusedInside}; ${unchanged}`;
      emit({ type: 'step.fail', step: 'rollback', title, error: { message, unchanged } });
      await journal.finish(logId, 'failed', message).catch(() => undefined);
      return { ok: false, exitCode: EXIT.checksFailed, summary: message };
    }
    const { message, error } = transactionFailure(e, 'rollback failed', unchanged, 'partwise rollback --yes');
    emit({ type: 'step.fail', step: 'rollback', title, error });
    await journal.finish(logId, 'failed', message, { blockers: e instanceof TransactionFailed ? e.blockers : [] }).catch(() => undefined);
    return { ok: false, exitCode: EXIT.failed, summary: message, data: { error } };
  }
  emit({ type: 'step.done', step: 'rollback', title, ms: Date.now() - t0 });
  emit({ type: 'info', message: `${predrained + replayed} change(s) made since the swap copied back into ${cfg.table} (${replayed} of them under the locks)` });
  const problems = await afterSwitch(ctx, record.validate, cfg.newTable, record.dependents, false);
  const resyncNote = bypassed.length ? ` (reverse capture had been off: ${resynced.length} program(s) copied back whole${resynced.length ? `: ${resynced.join(', ')}` : ''})` : '';
  const summary = `swapped back: ${cfg.schema}.${cfg.table} is the original table again, with every write made since the swap${resyncNote}; ${cfg.newTable} stays in sync through change capture (run verify --data and swap again, or rollback again to remove it)`;
  if (problems.length) {
    for (const p of problems) emit({ type: 'warn', message: p });
    return { ok: false, exitCode: EXIT.failed, summary: `${summary}. But the checks after it found problems: ${problems.join('; ')}`, data: { problems, predrained, replayed } };
  }
  return { ok: true, exitCode: EXIT.ok, summary, data: { predrained, replayed, resynced } };
}
