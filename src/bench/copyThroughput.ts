/**
 * Item 1: copy throughput (and, with --workers N, the parallel copy: the same measurement with N copy workers). The baseline is one plain `INSERT INTO <partitioned copy> (cols) SELECT cols FROM
 * <source>`: the fastest the server moves these rows. Against it, `partwise migrate --mode all` (change capture
 * installed, batches, checkpoints, replay), in-process and timed around runMigrate. Both write into the same
 * partitioned table, emptied (TRUNCATE) and with capture removed before each run; the runs alternate.
 */
import { takeSnapshot } from '../catalog/snapshot.js';
import { ident, qname } from '../db/quote.js';
import { captureRemovalStatements, resetCopyCheckpoints } from '../move/capture.js';
import { copiedColumns } from '../move/captureNames.js';
import { runMigrate } from '../steps/migrate.js';
import type { StepContext } from '../steps/context.js';
import { median } from '../stats.js';
import { startWaitSampler, type WaitProfile } from './waitSampler.js';

export interface CopyRun {
  kind: 'baseline' | 'partwise';
  /** partwise's copy workers (1 for the baseline) */
  workers: number;
  rows: number;
  seconds: number;
  rowsPerSec: number;
}

export interface CopyThroughput {
  runs: CopyRun[];
  baselineRowsPerSec: number;
  partwiseRowsPerSec: number;
  /** the median of the pairs' ratios (partwise / the baseline run next to it) */
  ratio: number;
  /** each pair's partwise / baseline, in run order */
  pairRatios: number[];
  /** what the copying sessions did, sampled (waitSampler.ts), per kind of run */
  waits: Record<CopyRun['kind'], WaitProfile>;
}

/** Empties the partitioned copy and removes what a previous partwise run left (capture, checkpoints). */
export async function resetTarget(ctx: StepContext): Promise<void> {
  const { client, cfg } = ctx;
  for (const s of captureRemovalStatements(cfg, 'forward')) await client.query(s);
  await resetCopyCheckpoints(client, cfg);
  await client.query(`TRUNCATE ${qname(cfg.schema, cfg.newTable)}`);
  // each run starts without dirty buffers of the previous one (needs superuser or pg_checkpoint; skipped if refused)
  await client.query('CHECKPOINT').catch(() => undefined);
}

export async function baselineCopy(ctx: StepContext): Promise<CopyRun> {
  const { client, cfg } = ctx;
  const snap = await takeSnapshot(client, cfg);
  const cols = copiedColumns(snap, 'forward').map((c) => ident(c.name)).join(', ');
  const t0 = performance.now();
  const r = await client.query(
    `INSERT INTO ${qname(cfg.schema, cfg.newTable)} (${cols}) OVERRIDING SYSTEM VALUE SELECT ${cols} FROM ONLY ${qname(cfg.schema, cfg.table)} WHERE ${ident(cfg.key)} IS NOT NULL`,
  );
  const seconds = (performance.now() - t0) / 1000;
  const rows = r.rowCount ?? 0;
  return { kind: 'baseline', workers: 1, rows, seconds, rowsPerSec: rows / seconds };
}

/**
 * partwise migrate --mode all with `workers` copy workers, timed to the same end as the baseline: every row in the
 * indexed copy and the change log drained (partwise builds the secondary indexes after the bulk copy, inside the
 * timing: src/plan/deferIndexes.ts; measureCopyThroughput checks that every run ends with the same indexes).
 */
export async function partwiseCopy(ctx: StepContext, workers = 1): Promise<CopyRun> {
  const t0 = performance.now();
  const r = await runMigrate(ctx, { mode: 'all', workers });
  const seconds = (performance.now() - t0) / 1000;
  if (!r.ok) throw new Error(`partwise migrate failed: ${r.summary}`);
  const rows = Number((r.data as { copied?: number }).copied ?? 0);
  return { kind: 'partwise', workers, rows, seconds, rowsPerSec: rows / seconds };
}

/**
 * After one untimed warm-up run, alternates baseline and partwise `pairs` times on identical fresh targets. The ratio is
 * the median of the pairs' ratios: the two runs of a pair meet the same moment of a shared machine (on the VM these
 * figures come from, the same run's speed drifts by 20 % over minutes), which a ratio of the two medians would mix.
 */
export async function measureCopyThroughput(ctx: StepContext, pairs: number, onRun?: (r: CopyRun) => void, workers = 1): Promise<CopyThroughput> {
  const waits = { baseline: new Map(), partwise: new Map() } as Record<CopyRun['kind'], WaitProfile>;
  const mainPid = (await ctx.client.query<{ p: number }>('SELECT pg_backend_pid() AS p')).rows[0]!.p;
  /** the run, with its sessions' wait profile added to its kind's (with several workers, the coordinator is left out) */
  const sampled = (kind: CopyRun['kind'], run: (c: StepContext) => Promise<CopyRun>) => async (c: StepContext) => {
    const sampler = await startWaitSampler(c.connection, kind === 'partwise' && workers > 1 ? [mainPid] : []);
    try {
      return await run(c);
    } finally {
      for (const [k, n] of await sampler.stop()) waits[kind].set(k, (waits[kind].get(k) ?? 0) + n);
    }
  };
  const partwise = sampled('partwise', (c: StepContext) => partwiseCopy(c, workers));
  const baseline = sampled('baseline', baselineCopy);
  const runs: CopyRun[] = [];
  const pairRatios: number[] = [];
  // every run must end where the baseline does: the same indexes, each valid
  const indexes = async () => (await ctx.client.query<{ d: string }>(
    `SELECT string_agg(d, E'\n' ORDER BY d) AS d FROM (
       SELECT pg_get_indexdef(i.indexrelid) || CASE WHEN i.indisvalid THEN '' ELSE ' INVALID' END AS d FROM pg_index i WHERE i.indrelid = $1::regclass) x`, [qname(ctx.cfg.schema, ctx.cfg.newTable)])).rows[0]!.d;
  const created = await indexes();
  // one untimed run first: the first writes of a fresh server create WAL segment files (later runs recycle them)
  // and fill the caches; whichever kind came first would pay for that
  await resetTarget(ctx);
  await baselineCopy(ctx);
  for (let i = 0; i < pairs; i++) {
    // alternate which goes first, so neither always meets the warmer cache
    const order = i % 2 === 0 ? [baseline, partwise] : [partwise, baseline];
    const pair: CopyRun[] = [];
    for (const run of order) {
      await resetTarget(ctx);
      const r = await run(ctx);
      const now = await indexes();
      if (now !== created) throw new Error(`the ${r.kind} run ended with other indexes on the copy than create made:\n${now}\nexpected:\n${created}`);
      runs.push(r);
      pair.push(r);
      onRun?.(r);
    }
    const byKind = (k: CopyRun['kind']) => pair.find((r) => r.kind === k)!.rowsPerSec;
    pairRatios.push(byKind('partwise') / byKind('baseline'));
  }
  await resetTarget(ctx);
  const b = median(runs.filter((r) => r.kind === 'baseline').map((r) => r.rowsPerSec));
  const p = median(runs.filter((r) => r.kind === 'partwise').map((r) => r.rowsPerSec));
  return { runs, baselineRowsPerSec: b, partwiseRowsPerSec: p, ratio: median(pairRatios), pairRatios, waits };
}
