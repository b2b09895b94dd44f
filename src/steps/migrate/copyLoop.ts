/**
 * The copy loops: one per worker, each walking one scope (or one part of a scope) at a time to its end, batch by batch
 * (each a transaction with its checkpoint), with the run's checks before each batch and the counts, the rate clock
 * and (with one worker) replay after it. copyJobs plans the work (whole scopes largest first, large ones cut into
 * parts when there are several workers) and runs the workers; with several, replay runs beside them on ctx.client.
 */
import type pg from 'pg';
import { DEADLOCK } from '../../exec/errors.js';
import { copyBatch, startScope, type BatchResult, type Scope } from '../../move/copy.js';
import { finishParts, splitScope } from '../../move/copyParts.js';
import { countByKey, type ProgramEntry } from '../../move/programs.js';
import { blocksForRows, sleep } from '../../move/progress.js';
import type { CopyRun } from './copyRun.js';
import { openWorkerSessions } from './workerSessions.js';

/** One scope to copy: `active` are the programs it feeds, `exclude` the keys its filter leaves out. */
export interface Job {
  scope: Scope;
  active: ProgramEntry[];
  exclude: string[];
}

/** A scope, or one part of it, with its job. */
interface Unit {
  job: Job;
  scope: Scope;
}

/** Parts per worker of a split scope: a worker that finishes early takes another part instead of idling. */
const PARTS_PER_WORKER = 2;
/** a batch of a deadlocked transaction (two workers met over rows a writer moved) is simply run again */
const DEADLOCK_RETRIES = 5;

const remaining = (job: Job) => job.active.reduce((n, p) => n + Math.max(0, p.total - p.copied), 0);

/** Copies every job to its end; with several workers, they copy disjoint scopes and parts at once. */
export async function copyJobs(run: CopyRun, jobs: Job[]): Promise<void> {
  const { client, target } = run;
  const ordered = [...jobs].sort((a, b) => remaining(b) - remaining(a));
  for (let round = 0; ; round++) {
    const units: Unit[] = [];
    const pending: Job[] = [];
    for (const job of ordered) {
      const cp = await run.onMain(() => startScope(client, target, job.scope));
      // replay emptied the new table after a TRUNCATE and reset this scope (a worker found its part gone)
      if (cp.truncated) await truncatedMeanwhile(run);
      if (cp.done) continue;
      pending.push(job);
      const rows = job.active.reduce((n, p) => n + p.total, 0);
      const minBlocks = blocksForRows(run.controls.batchSize, rows, cp.endBlock);
      // parts made by an earlier run are taken whatever the number of workers now
      const parts = await run.onMain(() => splitScope(client, target, job.scope, run.workers > 1 ? run.workers * PARTS_PER_WORKER : 1, minBlocks));
      if (parts.length) units.push(...parts.map((scope) => ({ job, scope })));
      else if (cp.nextBlock < cp.endBlock) units.push({ job, scope: job.scope });
    }
    if (!pending.length) return;
    const split = units.filter((u) => u.scope.part !== undefined).length;
    if (run.workers > 1 || split)
      run.ctx.emit({ type: 'info', message: `copy workers: ${run.workers}; ${units.length} piece(s) of work (${split} of them block ranges of a large scope, each its own checkpoint), largest first` });
    if (!units.length) throw new Error(`the copy's checkpoints are inconsistent (${pending.map((j) => j.scope.id).join(', ')} neither done nor left to copy); run partwise rollback and start over`);
    await runWorkers(run, units);
    let allDone = true;
    for (const job of pending) if (!(await run.onMain(() => finishParts(client, target, job.scope)))) allDone = false;
    // a scope started over (the source was rewritten): planned again
    if (allDone) return;
    if (round > 100) throw new Error(`the copy started over more than 100 times (the source is rewritten again and again?); ${pending.map((j) => j.scope.id).join(', ')} not done`);
  }
}

/** The units on run.workers workers: ctx.client alone for one, else one session each and replay on ctx.client. */
async function runWorkers(run: CopyRun, units: Unit[]): Promise<void> {
  if (run.workers <= 1) {
    for (const u of units) await copyUnit(run, run.client, u, true);
    return;
  }
  const sessions = await openWorkerSessions(run, Math.min(run.workers, units.length));
  const queue = [...units];
  let working = sessions.length;
  let wake: (() => void) | null = null;
  run.onBatch = () => wake?.();
  const worker = async (session: pg.Client) => {
    try {
      for (let u = queue.shift(); u && !run.failed; u = queue.shift()) await copyUnit(run, session, u, false);
    } catch (e) {
      run.failed ??= e;
      throw e;
    } finally {
      working--;
      wake?.();
    }
  };
  // one replay beside the workers: after their batches, and at least twice a second
  const replay = async () => {
    try {
      while (working > 0 && !run.failed) {
        await run.drain(10);
        await run.overall();
        run.guardNews();
        if (working > 0) await new Promise<void>((r) => {
          const t = setTimeout(r, 500);
          wake = () => {
            clearTimeout(t);
            wake = null;
            r();
          };
        });
      }
    } catch (e) {
      // a replay that cannot go on stops the workers too (ReplayBlocked says why)
      run.failed ??= e;
      throw e;
    }
  };
  try {
    const results = await Promise.allSettled([...sessions.map(worker), replay()]);
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason);
    // the first failure is the cause; the other workers only stopped because of it
    if (failures.length) throw run.failed ?? failures[0];
  } finally {
    run.onBatch = null;
    run.failed = null;
    await Promise.all(sessions.map((s) => s.end().catch(() => undefined)));
  }
}

/** Copies one unit to its end on `session`; `replayHere`: replay after each batch (one worker). */
async function copyUnit(run: CopyRun, session: pg.Client, u: Unit, replayHere: boolean): Promise<void> {
  const { scope, job } = u;
  const { active, exclude } = job;
  for (const p of active) run.report(p, 'copying');
  for (const p of active) run.active.set(p, (run.active.get(p) ?? 0) + 1);
  try {
    let endBlock = (await run.onMain(() => startScope(run.client, run.target, job.scope))).endBlock;
    for (;;) {
      await run.between(active);
      const maxRate = run.maxRate();
      // under a rate limit, about five batches a second in all: short bursts keep the application's latency even
      const rows = Math.max(1, Math.min(run.controls.batchSize, maxRate ? Math.ceil(maxRate / 5 / run.workers) : Infinity));
      const t0 = Date.now();
      // a rate limit asks to spare the application: the batch's writes also reach the disk as they go (see copyBatch)
      const blocks = blocksForRows(rows, active.reduce((n, p) => n + p.total, 0), endBlock);
      const r = await batchRetried(() => copyBatch(session, run.target, scope, blocks, exclude, { smoothWrites: maxRate !== null, count: run.countFor(scope) }));
      if (r.awaitReplay) {
        await run.drain(10);
        continue;
      }
      await afterBatch(run, scope, active, r, replayHere);
      if (r.gone || r.checkpoint.done) break;
      if (r.restarted) endBlock = r.checkpoint.endBlock;
      await sleep(run.pacer.after(r.copied, maxRate, t0) + run.controls.sleepMs, run.ctx.signal);
    }
  } finally {
    for (const p of active) {
      const n = (run.active.get(p) ?? 1) - 1;
      if (n > 0) run.active.set(p, n);
      else run.active.delete(p);
    }
  }
}

async function batchRetried(batch: () => Promise<BatchResult>): Promise<BatchResult> {
  for (let i = 0; ; i++) {
    try {
      return await batch();
    } catch (e) {
      // the batch and its checkpoint were rolled back together: running it again copies the same range once
      if ((e as { code?: string }).code !== DEADLOCK || i >= DEADLOCK_RETRIES) throw e;
    }
  }
}

/** Replay emptied the new table with the source (TRUNCATE): the counts start over from the rows there are now. */
async function truncatedMeanwhile(run: CopyRun): Promise<void> {
  const { cfg, emit } = run.ctx;
  const fresh = await run.onMain(() => countByKey(run.client, cfg));
  for (const p of run.programs) {
    p.copied = 0;
    p.total = p.keys.reduce((n, k) => n + (fresh.get(k) ?? 0), 0);
  }
  emit({
    type: 'warn',
    message: `${cfg.schema}.${cfg.table} was emptied (TRUNCATE) during the copy: partwise emptied ${cfg.newTable} the same way and starts the copy over ` +
      `from the rows the table holds now; rows written since the TRUNCATE come through the change log, so nothing is lost`,
  });
}

/** What a committed batch changes: restarts, counts, the bars; with one worker also replay and the guard. */
async function afterBatch(run: CopyRun, scope: Scope, active: ProgramEntry[], r: BatchResult, replayHere: boolean): Promise<void> {
  const { cfg, emit } = run.ctx;
  if (r.countMismatch && run.byPartition) {
    run.byPartition = null;
    emit({ type: 'info', message: 'per-program progress: the partitions\' insert counts did not add up to the rows copied (a partition attached meanwhile?); counting per key from now on' });
  }
  if (r.truncated) await truncatedMeanwhile(run);
  else if (r.restarted) emit({ type: 'warn', message: `${cfg.table} was rewritten (TRUNCATE, VACUUM FULL, CLUSTER or a rewriting ALTER TABLE): the copy of ${scope.id} starts over` });
  const counts = new Map<ProgramEntry, number>();
  for (const [k, n] of r.copiedByProgram) {
    const p = run.byKey.get(k);
    if (p) {
      p.copied += n;
      counts.set(p, (counts.get(p) ?? 0) + n);
    }
  }
  run.copiedThisRun += r.copied;
  run.reporter.batch(active, counts, r.copied);
  if (replayHere) await run.drain(10);
  const touched = new Set([...r.copiedByProgram.keys()].map((k) => run.byKey.get(k)).filter((p): p is ProgramEntry => p !== undefined));
  for (const p of active.filter((x) => touched.has(x) || active.length === 1)) run.report(p);
  if (replayHere) {
    await run.overall();
    run.guardNews();
  } else run.onBatch?.();
}
