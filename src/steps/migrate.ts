/**
 * partwise migrate: installs change capture (migrate/installCapture.ts), copies the rows in batches (each a
 * checkpoint; migrate/copyLoop.ts), replays the change log between batches, honours the live controls (pause, rate, batch size, sleep) and ctx.signal, and resumes from the
 * checkpoints when run again. Modes: `one` (a single program, default the largest), `all` (one pass over the whole
 * table), `gradual` (program by program in the lookup table's creation order, each verified before the next; keys
 * without a lookup row last).
 */
import { takeSnapshot } from '../catalog/snapshot.js';
import type { Snapshot } from '../catalog/types.js';
import type { Config } from '../config/config.js';
import { EXIT } from '../events.js';
import { personError } from '../exec/errors.js';
import { TransactionFailed } from '../exec/retry.js';
import { Journal } from '../journal/journal.js';
import { captureBacklog } from '../move/capture.js';
import { captureKeyColumns } from '../move/captureNames.js';
import { setControls, type Controls } from '../move/control.js';
import { keyScope } from '../move/copy.js';
import { columnsFingerprint } from '../move/drift.js';
import { recopyDiffering } from '../move/recopy.js';
import { CALIBRATION_PROBES, GUARD_PERCENTILE, LatencyGuard, migrationProbe, type Probe } from '../move/latencyGuard.js';
import { countByKey, partitionPrograms, programList, REST_PROGRAM, restMarkerUsable, type ProgramEntry } from '../move/programs.js';
import { ProgressReporter } from '../move/progressReporter.js';
import { acquireRunLease, isLease, type RunLease } from '../move/runLease.js';
import type { StepContext, StepResult } from './context.js';
import { CopyRun, DriftStop, Interrupted } from './migrate/copyRun.js';
import { installCapture } from './migrate/installCapture.js';
import { copyAllMode } from './migrate/modeAll.js';
import { copyGradualMode, copyOneMode } from './migrate/modePrograms.js';
import { repairCopy } from './repairCopy.js';
import { buildDeferredIndexes } from './migrate/buildIndexes.js';
import { deferIndexesStep } from '../plan/deferIndexes.js';
import { runAnnounced } from '../exec/runStep.js';
import { readCheckpoints } from '../move/copy.js';
import { migrateChildren } from './migrateChildren.js';

export type MigrateMode = 'one' | 'all' | 'gradual';

export interface MigrateOptions {
  mode: MigrateMode;
  program?: string;
  batchSize?: number;
  maxRate?: number | null;
  sleepMs?: number;
  /** the latency guard (src/move/latencyGuard.ts): slow the copy while commits take more than this many times their normal time */
  maxLatencyRatio?: number | null;
  /** copy workers: sessions copying disjoint block ranges at once (default the config's `workers`, 1) */
  workers?: number;
  /** the guard's probe; tests only (default: migrationProbe, a committed one-row update) */
  guardProbe?: Probe;
}

const RESUME = 'run partwise migrate again to resume (it continues from the last committed batch)';
/** Rows per key are journaled for up to this many keys (a few hundred kB of JSON at most). */
const MAX_JOURNALED_KEYS = 10_000;

/** The run's copy workers: --workers, else the config's. */
export const workersOf = (opts: MigrateOptions, cfg: Config): number => opts.workers ?? cfg.workers;

export async function runMigrate(ctx: StepContext, opts: MigrateOptions): Promise<StepResult> {
  const { client, cfg, emit } = ctx;
  const snap = await takeSnapshot(client, cfg);
  const source = snap.source;
  if (!source) return { ok: false, exitCode: EXIT.failed, summary: `${cfg.schema}.${cfg.table} does not exist; nothing was changed` };
  if (source.relkind === 'p')
    return { ok: false, exitCode: EXIT.failed, summary: `${cfg.schema}.${cfg.table} is already the partitioned table (the swap happened): nothing to migrate` };
  if (!snap.target) return { ok: false, exitCode: EXIT.failed, summary: `${cfg.schema}.${cfg.newTable} does not exist: run partwise create first; nothing was changed` };
  const keyColumns = captureKeyColumns(source);
  if (!keyColumns)
    return {
      ok: false, exitCode: EXIT.checksFailed,
      summary: `${cfg.schema}.${cfg.table} has no PRIMARY KEY or UNIQUE constraint on NOT NULL columns: change capture cannot identify rows. Add one, then run migrate again; nothing was changed`,
    };

  const journal = await Journal.open(client, cfg);
  const lease = await acquireRunLease(ctx.connection, journal.migrationId, ctx.signal);
  if (!isLease(lease))
    return {
      ok: false, exitCode: EXIT.failed,
      summary: `another partwise migrate of ${cfg.schema}.${cfg.table} is running (${lease.holder}, since ${lease.acquiredAt.toISOString()}, server pid ${lease.backendPid}); let it finish or stop it (partwise pause), then run migrate again; nothing was changed`,
    };

  const logId = await journal.start('migrate', { mode: opts.mode, workers: workersOf(opts, cfg) });
  try {
    const result = await migrate(ctx, opts, snap, journal, lease, logId);
    const interrupted = (result.data as { interrupted?: boolean } | undefined)?.interrupted === true;
    await journal.finish(logId, result.ok ? 'done' : interrupted ? 'interrupted' : 'failed', result.ok ? undefined : result.summary, { mode: opts.mode, ...(result.data as object) });
    return result;
  } catch (e) {
    const f = e instanceof TransactionFailed ? e : undefined;
    const err = personError(f?.cause ?? e, {
      statement: f?.statement,
      unchanged: 'every batch committed before this error is kept and journaled; the one in flight was rolled back',
      todo: `fix the cause, then ${RESUME}`,
    });
    await journal.finish(logId, 'failed', err.message).catch(() => undefined);
    emit({ type: 'step.fail', step: 'migrate', title: 'Copy the rows', error: err });
    return { ok: false, exitCode: EXIT.failed, summary: `migrate failed: ${err.message}${err.serverHint ? ` (hint: ${err.serverHint})` : ''}. ${err.unchanged}; ${RESUME}`, data: { error: err } };
  } finally {
    await lease.release();
  }
}

async function migrate(ctx: StepContext, opts: MigrateOptions, snap0: Snapshot, journal: Journal, lease: RunLease, logId: number): Promise<StepResult> {
  const { client, cfg, emit } = ctx;
  const migrationId = journal.migrationId;

  // the flags set the initial controls; the screens and `partwise pause/resume` change them while it runs
  const change: Partial<Controls> = { paused: false };
  if (opts.batchSize !== undefined) change.batchSize = opts.batchSize;
  if (opts.maxRate !== undefined) change.maxRate = opts.maxRate;
  if (opts.sleepMs !== undefined) change.sleepMs = opts.sleepMs;
  const controls = await setControls(client, cfg, change);

  // 1. change capture, before the first row is copied
  const { recopy } = await installCapture(ctx, snap0, migrationId);

  // 2. the copy's structure as the source's (columns, constraints, indexes added or dropped since create)
  // mode all's bulk copy runs without the copy's secondary indexes, built once after it (src/plan/deferIndexes.ts);
  // in every mode a non-unique index the copy lacks (added to the source, or left unbuilt by a stopped run) is built
  // at the end of the run the same way (SHARE, no statement_timeout), never by the repair
  const deferIndexes = opts.mode === 'all' && !(await readCheckpoints(client, migrationId)).some((c) => c.scope === 'all' && c.done);
  const repaired = await repairCopy(ctx, snap0, { deferIndexes: true });
  if (repaired.refused.length)
    return { ok: false, exitCode: EXIT.checksFailed, summary: `the copy cannot be repaired in place: ${repaired.refused.join('; ')}. Nothing was changed` };
  let snap = repaired.snap;
  const defer = deferIndexes ? deferIndexesStep(snap, cfg) : null;
  if (defer) {
    await runAnnounced(client, defer, ctx.retry, emit);
    snap = await takeSnapshot(client, cfg);
  }

  // 3. totals per program: one GROUP BY
  const totals = await countByKey(client, cfg);
  const copiedSoFar = new Map(
    (await client.query<{ program: string; copied: string }>(`SELECT program, copied FROM partwise.copy_progress WHERE migration_id = $1`, [migrationId])).rows.map((r) => [r.program, Number(r.copied)]),
  );
  const programs = programList(snap, cfg, totals, copiedSoFar);
  const byKey = new Map<string, ProgramEntry>();
  for (const p of programs) for (const k of p.keys) byKey.set(k, p);
  const markerFree = restMarkerUsable(snap, totals.keys());
  const rest = programs.find((p) => p.program === REST_PROGRAM);
  if (rest && markerFree) byKey.set(REST_PROGRAM, rest);

  const keyCol = snap.source!.columns.find((c) => c.name === cfg.key)!;
  // how batches count per program (see ProgressCount in src/move/copy.ts): RETURNING only when nothing cheaper tells
  const tracked = (await client.query<{ on: boolean }>(`SELECT current_setting('track_counts')::bool AS on`)).rows[0]!.on;
  const run = new CopyRun({
    ctx, snap, lease, migrationId, controls, programs, byKey, lookupKeys: snap.lookupRows.map((r) => r.key), markerFree, totals, keyCol,
    byPartition: tracked ? partitionPrograms(snap, keyCol.type, totals.keys()) : null,
    reporter: new ProgressReporter(emit, opts.mode, programs), fingerprint: await columnsFingerprint(client, cfg), workers: workersOf(opts, cfg),
    deferIndexes: true,
  });
  const runStart = Date.now();
  // the journal knows the copy's size from now on: status and a later start say where it stands (N% of it), and
  // a terminal that shows this copy's bars (watch, a resume) takes the rows per key from here instead of counting
  await journal.note(logId, { total: programs.reduce((n, p) => n + p.total, 0), ...(totals.size <= MAX_JOURNALED_KEYS ? { totals: Object.fromEntries(totals) } : {}) });
  // where a resumed copy stands, before its first batch
  for (const p of programs) run.report(p);

  // the latency guard learns the normal commit time now, before the copy adds its own load
  if (opts.maxLatencyRatio) {
    try {
      run.guard = await LatencyGuard.start(ctx.connection, opts.maxLatencyRatio, opts.guardProbe ?? migrationProbe(migrationId));
      emit({ type: 'info', message: `latency guard: a commit takes ${run.guard.baselineMs.toFixed(1)} ms before the copy (p${GUARD_PERCENTILE} of ${CALIBRATION_PROBES} probes); the copy slows down while the slowest tenth of commits take more than ${run.guard.limitMs.toFixed(1)} ms` });
    } catch (e) {
      // the guard is a comfort, not a condition: without it the copy runs under --max-rate alone
      emit({ type: 'warn', message: `latency guard: could not measure commits before the copy (${(e as Error).message}); the copy runs without the guard${controls.maxRate === null ? '' : ` at --max-rate ${controls.maxRate} rows/s`}` });
    }
  }

  try {
    const stopped = opts.mode === 'all' ? (await copyAllMode(run), null) : opts.mode === 'one' ? await copyOneMode(run, opts.program) : await copyGradualMode(run);
    if (stopped) return stopped;
    await buildDeferredIndexes(run);
    // the tables whose foreign key lacks the key: their column back-filled and indexed (src/steps/migrateChildren.ts)
    await migrateChildren(ctx, await takeSnapshot(ctx.client, ctx.cfg), run.migrationId, {
      between: async () => {
        await run.between([]);
        return run.controls;
      },
      signal: ctx.signal,
    });
  } catch (e) {
    if (e instanceof Interrupted) {
      await run.overall().catch(() => undefined);
      return { ok: false, exitCode: EXIT.interrupted, summary: `migrate stopped after a committed batch (${run.copiedThisRun} row(s) copied in this run); ${RESUME}`, data: { interrupted: true, copied: run.copiedThisRun } };
    }
    if (e instanceof DriftStop) {
      await setControls(client, cfg, { paused: true });
      return { ok: false, exitCode: EXIT.checksFailed, summary: `${e.message}. The copy is paused (change capture keeps logging); then ${RESUME}` };
    }
    throw e;
  } finally {
    await run.guard?.stop();
  }

  const all = await run.doneScopes();
  const complete = all.has('all') || programs.every((p) => all.has(p.program === REST_PROGRAM ? 'rest' : keyScope(p.program).id));
  // what changed on the source during this run (an index created meanwhile) is repaired before verify --data
  snap = run.snap;
  const final = await repairCopy(ctx, await takeSnapshot(client, cfg), { deferIndexes: true });
  if (final.refused.length)
    return { ok: false, exitCode: EXIT.checksFailed, summary: `schema drift that cannot be repaired in place: ${final.refused.join('; ')}. Then ${RESUME}` };
  if (final.repaired.length) snap = final.snap;
  const recopied = recopy ? await recopyDiffering(client, snap, cfg, 'forward', emit) : [];
  await run.overall();
  const backlog = await captureBacklog(client, cfg, 'forward');
  const seconds = (Date.now() - runStart) / 1000;
  const repairs = [...repaired.repaired, ...final.repaired];
  const repairNote = repairs.length ? `; ${cfg.newTable} repaired: ${repairs.join('; ')}` : '';
  const recopyNote = recopy ? `; ${recopied.length} program(s) copied again after capture was off (${recopied.join(', ') || 'none differed'})` : '';
  const copiedThisRun = run.copiedThisRun;
  return {
    ok: true, exitCode: EXIT.ok,
    summary: `${copiedThisRun} row(s) copied in ${seconds.toFixed(1)} s (mode ${opts.mode}); ${complete ? 'every program is copied' : 'some programs are not copied yet'}${repairNote}${recopyNote}; change capture keeps ${cfg.newTable} in step (backlog ${backlog})`,
    next: complete ? 'verify --data' : 'migrate',
    data: { copied: copiedThisRun, complete, backlog, repaired: repairs, recopied },
  };
}
