/**
 * One copy loop: walks one scope to its end, batch by batch (each a transaction with its checkpoint), with the run's
 * checks before each batch, the counts, replay and the rate limit after it.
 */
import { copyBatch, startScope, type BatchResult, type Scope } from '../../move/copy.js';
import { countByKey, type ProgramEntry } from '../../move/programs.js';
import { blocksForRows, sleep } from '../../move/progress.js';
import type { CopyRun } from './copyRun.js';

/** Copies one scope to its end; `active` are the programs it feeds, `exclude` the keys its filter leaves out. */
export async function copyScope(run: CopyRun, scope: Scope, active: ProgramEntry[], exclude: string[]): Promise<void> {
  const { client } = run;
  let cp = await startScope(client, run.target, scope);
  if (cp.done) return;
  for (const p of active) run.report(p, 'copying');
  const scopeRows = () => active.reduce((n, p) => n + p.total, 0);
  while (!cp.done) {
    await run.between(active);
    const maxRate = run.maxRate();
    // under a rate limit, about five batches a second: short bursts keep the application's latency even
    const rows = Math.max(1, Math.min(run.controls.batchSize, maxRate ? Math.ceil(maxRate / 5) : Infinity));
    const t0 = Date.now();
    // a rate limit asks to spare the application: the batch's writes also reach the disk as they go (see copyBatch)
    const r = await copyBatch(client, run.target, scope, blocksForRows(rows, scopeRows(), cp.endBlock), exclude, { smoothWrites: maxRate !== null, count: run.countFor(scope) });
    cp = r.checkpoint;
    await afterBatch(run, scope, active, r);
    await sleep(run.pacer.after(r.copied, maxRate, t0) + run.controls.sleepMs, run.ctx.signal);
  }
}

/** What a committed batch changes: restarts, counts, replay, the bars, the guard. */
async function afterBatch(run: CopyRun, scope: Scope, active: ProgramEntry[], r: BatchResult): Promise<void> {
  const { cfg, emit } = run.ctx;
  if (r.countMismatch && run.byPartition) {
    run.byPartition = null;
    emit({ type: 'info', message: 'per-program progress: the partitions\' insert counts did not add up to the rows copied (a partition attached meanwhile?); counting per key from now on' });
  }
  if (r.truncated) {
    // replay emptied the new table with the source: the counts start over from the rows there are now
    const fresh = await countByKey(run.client, cfg);
    for (const p of run.programs) {
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
    const p = run.byKey.get(k);
    if (p) {
      p.copied += n;
      counts.set(p, (counts.get(p) ?? 0) + n);
    }
  }
  run.copiedThisRun += r.copied;
  run.reporter.batch(active, counts, r.copied);
  await run.drain(10);
  const touched = new Set([...r.copiedByProgram.keys()].map((k) => run.byKey.get(k)).filter((p): p is ProgramEntry => p !== undefined));
  for (const p of active.filter((x) => touched.has(x) || active.length === 1)) run.report(p);
  await run.overall();
  run.guardNews();
}
