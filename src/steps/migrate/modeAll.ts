/**
 * migrate --mode all: one pass over the whole table copies every program at once. With several workers the pass is
 * cut into block ranges (parts). Program by program instead (partition-aligned, each worker on its own programs) was
 * measured slower on the benchmark's 50 programs: each program's scope walks the whole table for its rows
 * (README, Benchmark).
 */
import { keyScope } from '../../move/copy.js';
import { copyJobs } from './copyLoop.js';
import { recordCopied, type CopyRun } from './copyRun.js';

export async function copyAllMode(run: CopyRun): Promise<void> {
  const { programs, lookupKeys } = run;
  const done = await run.doneScopes();
  if (!done.has('all')) {
    // programs already copied on their own (modes one and gradual) are left out of the pass
    const exclude = lookupKeys.filter((k) => done.has(keyScope(k).id));
    // with several workers the pass is cut into block ranges (parts), each its own checkpoint
    await copyJobs(run, [{ scope: { id: 'all', kind: 'all' }, active: programs.filter((p) => !p.keys.every((k) => exclude.includes(k))), exclude }]);
  }
  await finishAll(run);
}

/** After every program is copied: replay, and the journal's counts say every program is done. */
export async function finishAll(run: CopyRun): Promise<void> {
  const { programs, totals } = run;
  await run.drain(100);
  // every program is copied and replay keeps it in step: no second full scan of the table just to count
  // (verify --data counts every program exactly)
  for (const p of programs) p.copied = Math.max(p.copied, p.total);
  // rows written after the install reached the new table by replay, which counts nothing: the journal gets the
  // totals, so that watch and a later run show every program done
  await recordCopied(run.client, run.migrationId, programs.flatMap((p) => p.keys.map((k) => [k, totals.get(k) ?? 0] as [string, number])), run.markerFree);
  for (const p of programs) run.report(p, 'done');
}
