/**
 * partwise migrate: installs change capture, copies the rows in batches (each a checkpoint), replays the change log
 * between batches, honours the live controls (pause, rate, batch size, sleep) and ctx.signal, and resumes from the
 * checkpoints when run again. Modes: `one` (a single program, default the largest), `all` (one pass over the whole
 * table), `gradual` (program by program in the lookup table's creation order, each verified before the next; keys
 * without a lookup row last).
 */
import type pg from 'pg';
import { takeSnapshot } from '../catalog/snapshot.js';
import type { Snapshot } from '../catalog/types.js';
import { ident, qname } from '../db/quote.js';
import { EXIT, type ProgramState } from '../events.js';
import { personError } from '../exec/errors.js';
import { TransactionFailed } from '../exec/retry.js';
import { runStep } from '../exec/runStep.js';
import { withTransaction } from '../exec/transaction.js';
import { Journal } from '../journal/journal.js';
import { captureBacklog, captureInstalled, captureIntegrity, captureObjectStatements, captureTriggerStep, drainLog, resetCopyCheckpoints } from '../move/capture.js';
import { captureKeyColumns, copiedColumns } from '../move/captureNames.js';
import { compareData } from '../move/checksum.js';
import { readControls, setControls, type Controls } from '../move/control.js';
import { copyBatch, keyScope, readCheckpoints, startScope, type CopyTarget, type ProgressCount, type Scope } from '../move/copy.js';
import { columnsFingerprint } from '../move/drift.js';
import { recopyDiffering } from '../move/recopy.js';
import { CALIBRATION_PROBES, GUARD_PERCENTILE, effectiveRate, LatencyGuard, migrationProbe, type Probe } from '../move/latencyGuard.js';
import { countByKey, findProgram, partitionPrograms, programList, REST_PROGRAM, restMarkerUsable, type ProgramEntry } from '../move/programs.js';
import { blocksForRows, sleep } from '../move/progress.js';
import { ProgressReporter } from '../move/progressReporter.js';
import { acquireRunLease, isLease, type RunLease } from '../move/runLease.js';
import { readMigrationState } from '../state/readState.js';
import type { StepContext, StepResult } from './context.js';
import { repairCopy } from './repairCopy.js';

export type MigrateMode = 'one' | 'all' | 'gradual';

export interface MigrateOptions {
  mode: MigrateMode;
  program?: string;
  batchSize?: number;
  maxRate?: number | null;
  sleepMs?: number;
  /** the latency guard (src/move/latencyGuard.ts): slow the copy while commits take more than this many times their normal time */
  maxLatencyRatio?: number | null;
  /** the guard's probe; tests only (default: migrationProbe, a committed one-row update) */
  guardProbe?: Probe;
}

const RESUME = 'run partwise migrate again to resume (it continues from the last committed batch)';
/** Rows per key are journaled for up to this many keys (a few hundred kB of JSON at most). */
const MAX_JOURNALED_KEYS = 10_000;

class Interrupted extends Error {}
class DriftStop extends Error {}

/**
 * Replaces copy_progress for these keys with exact counts (and drops the rest's REST_PROGRAM row when `dropRestMarker`):
 * the batches count what they inserted, replay counts nothing.
 */
async function recordCopied(client: pg.ClientBase, migrationId: number, perKey: Array<[string, number]>, dropRestMarker: boolean): Promise<void> {
  const keys = perKey.map(([k]) => k);
  await withTransaction(client, {}, async () => {
    await client.query(`DELETE FROM partwise.copy_progress WHERE migration_id = $1 AND program = ANY($2::text[])`, [migrationId, dropRestMarker ? [...keys, REST_PROGRAM] : keys]);
    await client.query(
      `INSERT INTO partwise.copy_progress (migration_id, program, copied) SELECT $1, k, n FROM unnest($2::text[], $3::int8[]) AS u(k, n)`,
      [migrationId, keys, perKey.map(([, n]) => n)],
    );
  });
}

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

  const logId = await journal.start('migrate', { mode: opts.mode });
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
  let snap = snap0;
  const migrationId = journal.migrationId;

  // the flags set the initial controls; the screens and `partwise pause/resume` change them while it runs
  const change: Partial<Controls> = { paused: false };
  if (opts.batchSize !== undefined) change.batchSize = opts.batchSize;
  if (opts.maxRate !== undefined) change.maxRate = opts.maxRate;
  if (opts.sleepMs !== undefined) change.sleepMs = opts.sleepMs;
  let controls = await setControls(client, cfg, change);

  // 1. change capture, before the first row is copied; capture that was off for a while (or never recorded its
  // install) is installed again, and what the copy missed is copied again
  const installed = await captureInstalled(client, cfg, 'forward');
  const bypassed = installed ? await captureIntegrity(client, cfg, 'forward') : [];
  let recopy = false;
  if (!installed || bypassed.length) {
    const started = (await readCheckpoints(client, migrationId)).length > 0;
    const complete = (await readMigrationState(client, cfg)).copy?.complete === true;
    if (bypassed.length && complete) {
      // the copy is complete: only the programs whose checksums differ lost writes (compared after the re-install)
      emit({ type: 'warn', message: `${bypassed.join('; ')}: capture is installed again, then every program whose checksum differs is copied again` });
      recopy = true;
    } else if (started) {
      // a copy without capture missed writes: start over
      emit({ type: 'warn', message: `${installed ? bypassed.join('; ') : 'change capture was not installed'} although a copy had started: ${cfg.newTable} is emptied and the copy starts over` });
      await client.query(`TRUNCATE ${qname(cfg.schema, cfg.newTable)}`);
      await resetCopyCheckpoints(client, cfg);
    }
    // two transactions: the log table and function first, then the triggers alone, so that the lock that stops the
    // application's writes is held only for the triggers' creation
    const steps = [
      {
        id: 'capture-prepare', phase: 'migrate' as const, title: `Create the change log and its function for ${cfg.schema}.${cfg.table}`,
        statements: captureObjectStatements(snap, cfg, 'forward'), locks: [], transactional: true, reverse: [], done: false, notes: [],
      },
      captureTriggerStep(cfg, 'forward'),
    ];
    for (const step of steps) {
      emit({ type: 'step.start', step: step.id, title: step.title, statements: step.statements, locks: step.locks });
      const t0 = Date.now();
      await runStep(client, step, ctx.retry, emit);
      emit({ type: 'step.done', step: step.id, title: step.title, ms: Date.now() - t0 });
    }
  }

  // 2. the copy's structure as the source's (columns, constraints, indexes added or dropped since create)
  const repaired = await repairCopy(ctx, snap);
  if (repaired.refused.length)
    return { ok: false, exitCode: EXIT.checksFailed, summary: `the copy cannot be repaired in place: ${repaired.refused.join('; ')}. Nothing was changed` };
  snap = repaired.snap;

  // 3. totals per program: one GROUP BY
  const totals = await countByKey(client, cfg);
  const copiedSoFar = new Map(
    (await client.query<{ program: string; copied: string }>(`SELECT program, copied FROM partwise.copy_progress WHERE migration_id = $1`, [migrationId])).rows.map((r) => [r.program, Number(r.copied)]),
  );
  const programs = programList(snap, cfg, totals, copiedSoFar);
  const byKey = new Map<string, ProgramEntry>();
  for (const p of programs) for (const k of p.keys) byKey.set(k, p);
  const lookupKeys = snap.lookupRows.map((r) => r.key);
  const markerFree = restMarkerUsable(snap, totals.keys());
  const rest = programs.find((p) => p.program === REST_PROGRAM);
  if (rest && markerFree) byKey.set(REST_PROGRAM, rest);

  const keyCol = snap.source!.columns.find((c) => c.name === cfg.key)!;
  // how batches count per program (see ProgressCount in src/move/copy.ts): RETURNING only when nothing cheaper tells
  const tracked = (await client.query<{ on: boolean }>(`SELECT current_setting('track_counts')::bool AS on`)).rows[0]!.on;
  let byPartition = tracked ? partitionPrograms(snap, keyCol.type, totals.keys()) : null;
  const countFor = (scope: Scope): ProgressCount =>
    scope.kind === 'key' ? { by: 'scope', program: scope.key }
    : scope.kind === 'rest' ? (markerFree ? { by: 'scope', program: REST_PROGRAM } : { by: 'returning' })
    : byPartition ? { by: 'partition', programOf: byPartition } : { by: 'returning' };
  // rows older than the capture's install are inserted without ON CONFLICT (see "Speed" in src/move/copy.ts)
  const target: CopyTarget = { cfg, migrationId, columns: copiedColumns(snap, 'forward'), keyType: keyCol.type, fastPath: true };
  const reporter = new ProgressReporter(emit, opts.mode, programs);
  const runStart = Date.now();
  let copiedThisRun = 0;
  // the journal knows the copy's size from now on: status and a later start say where it stands (N% of it), and
  // a terminal that shows this copy's bars (watch, a resume) takes the rows per key from here instead of counting
  await journal.note(logId, { total: programs.reduce((n, p) => n + p.total, 0), ...(totals.size <= MAX_JOURNALED_KEYS ? { totals: Object.fromEntries(totals) } : {}) });

  const overall = async () => reporter.overall(await captureBacklog(client, cfg, 'forward'), controls);
  const report = (p: ProgramEntry, state?: ProgramState) => reporter.program(p, state);
  // where a resumed copy stands, before its first batch
  for (const p of programs) report(p);

  const drain = (rounds: number) => drainLog(client, snap, cfg, 'forward', { limit: Math.max(controls.batchSize, 1000), maxRounds: rounds });

  /** before each batch: schema drift, pause, abort */
  let fingerprint = await columnsFingerprint(client, cfg);
  const between = async (active: ProgramEntry[]) => {
    const lost = lease.lost();
    if (lost) throw new Error(`this migrate no longer holds the copy's lease: ${lost}; it stopped so that two copies never run at once`);
    const fp = await columnsFingerprint(client, cfg);
    if (fp !== fingerprint) {
      await handleDrift();
      fingerprint = await columnsFingerprint(client, cfg);
    }
    controls = await readControls(client, cfg);
    await pauseIfAsked(active);
  };

  const handleDrift = async () => {
    const r = await repairCopy(ctx, await takeSnapshot(client, cfg));
    if (r.refused.length) throw new DriftStop(`schema drift that cannot be repaired in place: ${r.refused.join('; ')}`);
    if (r.repaired.length) {
      snap = r.snap;
      target.columns = copiedColumns(snap, 'forward');
    }
  };

  const pauseIfAsked = async (active: ProgramEntry[]) => {
    let shownPaused = false;
    while (controls.paused && !ctx.signal?.aborted) {
      if (!shownPaused) {
        reporter.setPaused(true, active);
        await overall();
        shownPaused = true;
      }
      await drain(5); // the backlog keeps shrinking while paused
      await sleep(1000, ctx.signal);
      controls = await readControls(client, cfg);
      // the rate or batch changed from a terminal while paused: shown now, not only at resume
      if (controls.paused && reporter.controlsChanged(controls)) await overall();
    }
    if (shownPaused) reporter.setPaused(false, active);
    if (ctx.signal?.aborted) throw new Interrupted();
  };

  /** copies one scope to its end; `active` are the programs it feeds */
  const copyScope = async (scope: Scope, active: ProgramEntry[], exclude: string[]) => {
    let cp = await startScope(client, target, scope);
    if (cp.done) return;
    for (const p of active) report(p, 'copying');
    const scopeRows = () => active.reduce((n, p) => n + p.total, 0);
    while (!cp.done) {
      await between(active);
      const maxRate = effectiveRate(controls.maxRate, guard?.rate ?? null);
      // under a rate limit, about five batches a second: short bursts keep the application's latency even
      const rows = Math.max(1, Math.min(controls.batchSize, maxRate ? Math.ceil(maxRate / 5) : Infinity));
      const t0 = Date.now();
      // a rate limit asks to spare the application: the batch's writes also reach the disk as they go (see copyBatch)
      const r = await copyBatch(client, target, scope, blocksForRows(rows, scopeRows(), cp.endBlock), exclude, { smoothWrites: maxRate !== null, count: countFor(scope) });
      cp = r.checkpoint;
      if (r.countMismatch && byPartition) {
        byPartition = null;
        emit({ type: 'info', message: 'per-program progress: the partitions\' insert counts did not add up to the rows copied (a partition attached meanwhile?); counting per key from now on' });
      }
      if (r.truncated) {
        // replay emptied the new table with the source: the counts start over from the rows there are now
        const fresh = await countByKey(client, cfg);
        for (const p of programs) {
          p.copied = 0;
          p.total = p.keys.reduce((n, k) => n + (fresh.get(k) ?? 0), 0);
        }
        emit({
          type: 'warn',
          message: `${cfg.schema}.${cfg.table} was emptied (TRUNCATE) during the copy: partwise emptied ${cfg.newTable} the same way and starts the copy over ` +
            `from the rows the table holds now; rows written since the TRUNCATE come through the change log, so nothing is lost`,
        });
      } else if (r.restarted) emit({ type: 'warn', message: `${cfg.table} was rewritten (TRUNCATE, VACUUM FULL, CLUSTER or a rewriting ALTER TABLE): the copy of ${scope.id} starts over` });
      const counts = new Map<ProgramEntry, number>();
      for (const [k, n] of r.copiedByProgram) {
        const p = byKey.get(k);
        if (p) {
          p.copied += n;
          counts.set(p, (counts.get(p) ?? 0) + n);
        }
      }
      copiedThisRun += r.copied;
      reporter.batch(active, counts, r.copied);
      await drain(10);
      const touched = new Set([...r.copiedByProgram.keys()].map((k) => byKey.get(k)).filter((p): p is ProgramEntry => p !== undefined));
      for (const p of active.filter((x) => touched.has(x) || active.length === 1)) report(p);
      await overall();
      if (guard?.probeError && !guardStopShown) {
        guardStopShown = true;
        emit({ type: 'warn', message: `latency guard: its probe failed (${guard.probeError}); the guard stopped and no longer limits the copy (${controls.maxRate === null ? 'no rate limit now' : `--max-rate ${controls.maxRate} rows/s still applies`}; partwise pause / resume and the rate controls still work)` });
      }
      const change = guard?.decide(reporter.overallRate());
      if (change)
        emit({ type: 'info', message: change.rate === null
          ? `latency guard: commits take ${change.probeMs.toFixed(1)} ms (limit ${change.limitMs.toFixed(1)} ms): the guard no longer limits the copy`
          : `latency guard: commits take ${change.probeMs.toFixed(1)} ms (limit ${change.limitMs.toFixed(1)} ms): copy rate ${change.rate} rows/s` });
      const minMs = maxRate ? (r.copied / maxRate) * 1000 : 0;
      await sleep(Math.max(0, minMs - (Date.now() - t0)) + controls.sleepMs, ctx.signal);
    }
  };

  const doneScopes = async () => new Set((await readCheckpoints(client, migrationId)).filter((c) => c.done).map((c) => c.scope));

  /** after a program is copied: drain, then count + checksum for that program in one snapshot */
  const verifyProgram = async (p: ProgramEntry): Promise<boolean> => {
    report(p, 'verifying');
    await drain(50);
    let ok = true;
    for (const key of p.keys) {
      const c = await compareData(client, snap, cfg, key);
      for (const x of c.programs.filter((y) => !y.ok))
        emit({ type: 'verify', item: { id: `data:${x.key}`, status: 'fail', title: `Rows of ${p.label ?? p.program}`, reason: `source ${x.sourceRows} row(s), new ${x.targetRows}; checksums ${x.sourceSum === x.targetSum ? 'equal' : 'differ'}`, details: x.sample.map((s) => `${s.side} only: ${s.key}`) } });
      ok &&= c.ok;
    }
    return ok;
  };

  /** exact counts of the given programs in the new table: their partitions only (pruned by the key list) */
  const finalCounts = async (of: ProgramEntry[]) => {
    const keys = of.flatMap((p) => p.keys);
    const r = await client.query<{ k: string; n: string }>(
      `SELECT ${ident(cfg.key)}::text AS k, count(*)::int8 AS n FROM ${qname(cfg.schema, cfg.newTable)} WHERE ${ident(cfg.key)} = ANY($1::text[]::${keyCol.type}[]) GROUP BY 1`,
      [keys],
    );
    const inTarget = new Map(r.rows.map((x) => [x.k, Number(x.n)]));
    for (const p of of) p.copied = p.keys.reduce((n, k) => n + (inTarget.get(k) ?? 0), 0);
    await recordCopied(client, migrationId, keys.map((k) => [k, inTarget.get(k) ?? 0]), markerFree && of.some((p) => p.program === REST_PROGRAM));
  };

  // the latency guard learns the normal commit time now, before the copy adds its own load
  let guard: LatencyGuard | null = null;
  let guardStopShown = false;
  if (opts.maxLatencyRatio) {
    try {
      guard = await LatencyGuard.start(ctx.connection, opts.maxLatencyRatio, opts.guardProbe ?? migrationProbe(migrationId));
      emit({ type: 'info', message: `latency guard: a commit takes ${guard.baselineMs.toFixed(1)} ms before the copy (p${GUARD_PERCENTILE} of ${CALIBRATION_PROBES} probes); the copy slows down while the slowest tenth of commits take more than ${guard.limitMs.toFixed(1)} ms` });
    } catch (e) {
      // the guard is a comfort, not a condition: without it the copy runs under --max-rate alone
      emit({ type: 'warn', message: `latency guard: could not measure commits before the copy (${(e as Error).message}); the copy runs without the guard${controls.maxRate === null ? '' : ` at --max-rate ${controls.maxRate} rows/s`}` });
    }
  }

  try {
    if (opts.mode === 'all') {
      const done = await doneScopes();
      const allCovered = done.has('all');
      if (!allCovered) {
        const exclude = lookupKeys.filter((k) => done.has(keyScope(k).id));
        await copyScope({ id: 'all', kind: 'all' }, programs.filter((p) => !p.keys.every((k) => exclude.includes(k))), exclude);
      }
      await drain(100);
      // every program is copied and replay keeps it in step: no second full scan of the table just to count
      // (verify --data counts every program exactly)
      for (const p of programs) p.copied = Math.max(p.copied, p.total);
      // rows written after the install reached the new table by replay, which counts nothing: the journal gets the
      // totals, so that watch and a later run show every program done
      await recordCopied(client, migrationId, programs.flatMap((p) => p.keys.map((k) => [k, totals.get(k) ?? 0] as [string, number])), markerFree);
      for (const p of programs) report(p, 'done');
    } else {
      const done = await doneScopes();
      let chosen: ProgramEntry[];
      if (opts.mode === 'one') {
        const pick = opts.program !== undefined ? findProgram(programs, opts.program) : [...programs].filter((p) => p.program !== REST_PROGRAM).sort((a, b) => b.total - a.total)[0];
        if (typeof pick === 'string') return { ok: false, exitCode: EXIT.usage, summary: `${pick}; nothing was copied` };
        if (!pick) return { ok: false, exitCode: EXIT.failed, summary: `${cfg.lookup} has no rows: no program to copy` };
        chosen = [pick];
      } else chosen = programs;
      for (const p of programs) if (!chosen.includes(p)) p.state = 'waiting';
      for (const p of chosen) {
        if (!done.has('all')) {
          if (p.program === REST_PROGRAM) await copyScope({ id: 'rest', kind: 'rest' }, [p], lookupKeys);
          else await copyScope(keyScope(p.program), [p], []);
        }
        if (opts.mode === 'gradual' && !(await verifyProgram(p))) {
          report(p, 'failed');
          return { ok: false, exitCode: EXIT.checksFailed, summary: `${p.label ?? p.program}: the copy differs from the source after replay (see above); the next programs were not started. Run partwise verify --data for details.` };
        }
        await drain(20);
        await finalCounts([p]);
        report(p, 'done');
        await overall();
      }
      await drain(100);
    }
  } catch (e) {
    if (e instanceof Interrupted) {
      await overall().catch(() => undefined);
      return { ok: false, exitCode: EXIT.interrupted, summary: `migrate stopped after a committed batch (${copiedThisRun} row(s) copied in this run); ${RESUME}`, data: { interrupted: true, copied: copiedThisRun } };
    }
    if (e instanceof DriftStop) {
      await setControls(client, cfg, { paused: true });
      return { ok: false, exitCode: EXIT.checksFailed, summary: `${e.message}. The copy is paused (change capture keeps logging); then ${RESUME}` };
    }
    throw e;
  } finally {
    await guard?.stop();
  }

  const all = await doneScopes();
  const complete = all.has('all') || programs.every((p) => all.has(p.program === REST_PROGRAM ? 'rest' : keyScope(p.program).id));
  // what changed on the source during this run (an index created meanwhile) is repaired before verify --data
  const final = await repairCopy(ctx, await takeSnapshot(client, cfg));
  if (final.refused.length)
    return { ok: false, exitCode: EXIT.checksFailed, summary: `schema drift that cannot be repaired in place: ${final.refused.join('; ')}. Then ${RESUME}` };
  if (final.repaired.length) snap = final.snap;
  const recopied = recopy ? await recopyDiffering(client, snap, cfg, 'forward', emit) : [];
  await overall();
  const backlog = await captureBacklog(client, cfg, 'forward');
  const seconds = (Date.now() - runStart) / 1000;
  const repairs = [...repaired.repaired, ...final.repaired];
  const repairNote = repairs.length ? `; ${cfg.newTable} repaired: ${repairs.join('; ')}` : '';
  const recopyNote = recopy ? `; ${recopied.length} program(s) copied again after capture was off (${recopied.join(', ') || 'none differed'})` : '';
  return {
    ok: true, exitCode: EXIT.ok,
    summary: `${copiedThisRun} row(s) copied in ${seconds.toFixed(1)} s (mode ${opts.mode}); ${complete ? 'every program is copied' : 'some programs are not copied yet'}${repairNote}${recopyNote}; change capture keeps ${cfg.newTable} in step (backlog ${backlog}). Next: partwise verify --data`,
    data: { copied: copiedThisRun, complete, backlog, repaired: repairs, recopied },
  };
}
