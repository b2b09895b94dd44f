/**
 * After the copy (every mode): the copy's non-unique indexes it lacks, mode all's dropped before its bulk copy
 * (src/plan/deferIndexes.ts), are built from the finished table. With several workers, the indexes are built on that many sessions at once
 * (CREATE INDEX takes SHARE, which does not conflict with itself); the change log is applied afterwards.
 */
import type pg from 'pg';
import { takeSnapshot } from '../../catalog/snapshot.js';
import { runAnnounced } from '../../exec/runStep.js';
import { buildIndexSteps } from '../../plan/deferIndexes.js';
import type { Step } from '../../plan/types.js';
import { Interrupted, type CopyRun } from './copyRun.js';
import { openWorkerSessions } from './workerSessions.js';

async function build(run: CopyRun, client: pg.ClientBase, step: Step): Promise<void> {
  const { emit, signal } = run.ctx;
  // Ctrl-C, SIGTERM, SIGHUP: no new build starts (one in progress finishes); the next migrate builds the rest
  if (signal?.aborted) throw new Interrupted();
  await runAnnounced(client, step, run.ctx.retry, emit);
}

/** How many indexes were built. */
export async function buildDeferredIndexes(run: CopyRun): Promise<number> {
  const steps = buildIndexSteps(await run.onMain(() => takeSnapshot(run.client, run.ctx.cfg)), run.ctx.cfg);
  if (!steps.length) return 0;
  const n = Math.min(run.workers, steps.length);
  if (n <= 1) {
    for (const s of steps) await run.onMain(() => build(run, run.client, s));
  } else {
    const sessions = await openWorkerSessions(run, n);
    const queue = [...steps];
    try {
      // every session finishes the build it is in before the run ends: one stopping or failing does not cut the others
      const results = await Promise.allSettled(sessions.map(async (session) => {
        for (let s = queue.shift(); s; s = queue.shift()) await build(run, session, s);
      }));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    } finally {
      await Promise.all(sessions.map((s) => s.end().catch(() => undefined)));
    }
  }
  await run.drain(100);
  return steps.length;
}
