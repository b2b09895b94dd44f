/**
 * npm run bench [-- --rows N --programs N --url URL --json]: partwise against the plain INSERT ... SELECT, side by
 * side, in one run (issue 5). A benchmark, not a test: it prints figures and misses, and exits 0 unless its own
 * arguments are wrong. Progress goes to stderr; the table (and with --json the JSON line, last) to stdout.
 */
import os from 'node:os';
import { redact } from '../db/connect.js';
import { measureApplicationImpact } from './applicationImpact.js';
import { parseBenchArgs, USAGE, type BenchOptions } from './args.js';
import { measureCatalogScale } from './catalogScale.js';
import { runChildMigrate } from './childMigrate.js';
import { profileText } from './waitSampler.js';
import { measureCopyThroughput, resetTarget } from './copyThroughput.js';
import { emptyFigures, jsonLine, markdown, type BenchFigures } from './report.js';
import { measureSeedQuery } from './seedQuery.js';
import { createDatabase, openServer, type BenchServer } from './server.js';
import { engineSession, prepareDataset } from './setup.js';

// frames are measured with the production React build, chosen when React is first loaded (frames.ts, dynamically)
process.env.NODE_ENV ??= 'production';

function progress(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

function machine(): string {
  const cpus = os.cpus();
  return `${cpus.length} cores (${cpus[0]?.model.trim() ?? 'unknown CPU'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.versions.node}, ${os.platform()} ${os.release()}`;
}

/** Runs one part; a failure is reported and the other parts still run. */
async function part(f: BenchFigures, name: string, work: () => Promise<void>, secret?: unknown): Promise<void> {
  try {
    await work();
  } catch (e) {
    const msg = redact((e as Error).message ?? String(e), secret as never);
    f.errors.push(`${name}: ${msg}`);
    progress(`${name} failed: ${msg}`);
  }
}

async function mainDataset(server: BenchServer, o: BenchOptions, f: BenchFigures): Promise<void> {
  const db = await createDatabase(server, 'copy');
  const s = await engineSession(db.config);
  try {
    progress(`seeding the demo: ${o.rows.toLocaleString('en-US')} rows, ${o.programs} programs; partwise create`);
    f.notes.push(...(await prepareDataset(s, o.rows, o.programs)));
    // hint bits and visibility map set once, so that no run pays for them
    await s.ctx.client.query(`VACUUM ANALYZE public.petri_observations`);

    await part(f, 'copy throughput', async () => {
      const c = await measureCopyThroughput(s.ctx, o.pairs, (r) => progress(`copy ${r.kind}: ${Math.round(r.rowsPerSec).toLocaleString('en-US')} rows/s (${r.seconds.toFixed(2)} s)`));
      f.baseline_rows_per_s = c.baselineRowsPerSec;
      f.partwise_rows_per_s = c.partwiseRowsPerSec;
      f.copy_ratio = c.ratio;
      f.copy_pair_ratios = c.pairRatios;
      f.notes.push(`where the time goes (one worker), sampled every 50 ms from pg_stat_activity: baseline ${profileText(c.waits.baseline)}; partwise ${profileText(c.waits.partwise)}`);
      f.copy_runs = c.runs.map((r) => ({ kind: r.kind, rows_per_s: r.rowsPerSec, seconds: r.seconds }));
    }, db.config);

    if (o.workers > 1)
      await part(f, 'parallel copy', async () => {
        f.workers = o.workers;
        progress(`parallel copy: partwise with ${o.workers} workers against the baseline, ${o.pairs} pairs`);
        const c = await measureCopyThroughput(s.ctx, o.pairs, (r) => progress(`copy ${r.kind}${r.workers > 1 ? ` x${r.workers}` : ''}: ${Math.round(r.rowsPerSec).toLocaleString('en-US')} rows/s (${r.seconds.toFixed(2)} s)`), o.workers);
        f.parallel_baseline_rows_per_s = c.baselineRowsPerSec;
        f.parallel_rows_per_s = c.partwiseRowsPerSec;
        f.parallel_copy_ratio = c.ratio;
        f.parallel_pair_ratios = c.pairRatios;
        f.notes.push(`where the time goes, sampled every 50 ms from pg_stat_activity, the baseline's session: ${profileText(c.waits.baseline)}`);
        f.notes.push(`the same, partwise's ${o.workers} workers: ${profileText(c.waits.partwise)}`);
        f.copy_runs.push(...c.runs.map((r) => ({ kind: r.kind, workers: r.workers, rows_per_s: r.rowsPerSec, seconds: r.seconds })));
        // the peak RSS as users run it: a child process, sampled (not timed: Node's start-up would count)
        await resetTarget(s.ctx);
        const child = await runChildMigrate(db.env, ['--workers', String(o.workers)]);
        await resetTarget(s.ctx);
        if (child.exitCode !== 0) throw new Error(`migrate --workers ${o.workers} in a child process exited ${child.exitCode}: ${child.tail.join(' / ')}`);
        f.parallel_peak_rss_mb = child.peakRssMb;
      }, db.config);
    if (o.copyOnly) {
      f.notes.push('--copy-only: the writer periods, the swap, the seed query and the catalog scale were not measured');
      return;
    }

    let swapped = false;
    await part(f, 'application impact', async () => {
      // the rate limit is the lever that keeps the application's latency close to normal while copying
      const maxRate = o.impactMaxRate ?? (f.baseline_rows_per_s ? Math.round(f.baseline_rows_per_s / 2) : 0);
      f.impact_copy_max_rate = maxRate || null;
      f.impact_latency_ratio = o.impactLatencyRatio || null;
      const a = await measureApplicationImpact(s.ctx, db.env, { rate: o.writerRate, idleSeconds: o.idleSeconds, rows: o.rows, programs: o.programs, maxRate, latencyRatio: o.impactLatencyRatio }, progress);
      Object.assign(f, {
        idle_p50_ms: a.idle.p50Ms, idle_p99_ms: a.idle.p99Ms, idle_max_ms: a.idle.maxMs,
        cpu_floor_p50_ms: a.cpuFloor.p50Ms, cpu_floor_p99_ms: a.cpuFloor.p99Ms, cpu_floor_p99_ratio: a.cpuFloor.p99Ms / a.idle.p99Ms,
        copy_p50_ms: a.copy.p50Ms, copy_p99_ms: a.copy.p99Ms, copy_max_ms: a.copy.maxMs, copy_p99_ratio: a.copy.p99Ms / a.idle.p99Ms,
        copy_wal_mb: a.copyWal.walBytes / 2 ** 20, copy_checkpoints: a.copyWal.requestedCheckpoints, max_wal_size: a.copyWal.maxWalSize,
        swap_p50_ms: a.swap.p50Ms, swap_p99_ms: a.swap.p99Ms, swap_max_ms: a.swap.maxMs, swap_max_block_ms: a.swapMaxBlockMs, swap_seconds: a.swapSeconds,
        writer_tx: a.idle.transactions + a.cpuFloor.transactions + a.copy.transactions + a.swap.transactions, writer_errors: a.writerErrors,
        checksums_equal: a.checksumsEqual, peak_rss_mb: a.migrate.peakRssMb, child_copy_rows_per_s: a.childRowsPerSec,
      });
      const rates = a.migrate.guardLines.map((l) => /copy rate (\d+) rows\/s/.exec(l)?.[1]).filter((x): x is string => x !== undefined).map(Number);
      f.impact_guard_changes = a.migrate.guardLines.length ? a.migrate.guardLines.filter((l) => /copy rate \d+ rows\/s|no longer limits the copy$/.test(l)).length : null;
      f.impact_guard_min_rate = rates.length ? Math.min(...rates) : null;
      if (a.migrate.guardLines[0]) f.notes.push(`copy under the writer, ${a.migrate.guardLines[0].replace(/^.*?latency guard: /, 'latency guard: ')}`);
      f.notes.push(`verify --data before the swap: ${a.verifySummary}`);
      f.notes.push(`swap: ${a.swapOk ? `done in ${a.swapSeconds.toFixed(2)} s (smoke check and ANALYZE included)` : a.swapSummary}`);
      f.notes.push(`checksums after the swap: ${a.checksumSummary}`);
      for (const m of a.writerMessages) f.notes.push(`pgbench: ${m}`);
      swapped = a.swapOk;
    }, db.config);

    if (swapped)
      await part(f, 'seed query', async () => {
        progress('seed comparison query, plain vs partitioned');
        const q = await measureSeedQuery(s.ctx.client, s.ctx.cfg);
        const [big, small] = q;
        if (big) Object.assign(f, { seed_query_source_ms: big.sourceMs, seed_query_partitioned_ms: big.partitionedMs, seed_query_ratio: big.ratio, seed_query_literal_ratio: big.literalRatio });
        if (small && small !== big) f.seed_query_small_ratio = small.ratio;
        for (const p of q)
          f.notes.push(`seed query, ${p.program} (${p.rows.toLocaleString('en-US')} rows): plain ${p.sourceMs.toFixed(3)} ms, partitioned ${p.partitionedMs.toFixed(3)} ms; id as a literal: plain ${p.literalSourceMs.toFixed(3)} ms, partitioned ${p.literalPartitionedMs.toFixed(3)} ms`);
      }, db.config);
    else f.notes.push('seed query not measured: it compares the tables after the swap, which did not happen');
  } finally {
    await s.close();
    await db.drop();
  }
}

async function scaleDataset(server: BenchServer, o: BenchOptions, f: BenchFigures): Promise<void> {
  const db = await createDatabase(server, 'scale');
  const s = await engineSession(db.config);
  try {
    const rows = Math.max(20_000, o.scalePartitions * 20);
    progress(`catalog scale: demo with ${o.scalePartitions} programs, ${rows.toLocaleString('en-US')} rows; partwise create`);
    await prepareDataset(s, rows, o.scalePartitions);
    const c = await measureCatalogScale(s.ctx);
    Object.assign(f, { scale_partitions: c.partitions, monitor_query_ms_1000: c.monitorQueryMs, monitor_frame_ms_1000: c.monitorFrameMs, migrate_frame_ms_1000: c.migrateFrameMs,
      monitor_frame_ms_1000_160x48: c.monitorFrameLargeMs, migrate_frame_ms_1000_160x48: c.migrateFrameLargeMs,
    });
  } finally {
    await s.close();
    await db.drop();
  }
}

export async function main(argv: string[]): Promise<number> {
  const o = parseBenchArgs(argv);
  if (typeof o === 'string') {
    const help = o === USAGE;
    (help ? process.stdout : process.stderr).write(`${o}\n`);
    return help ? 0 : 2;
  }
  progress(o.url ? 'connecting to the given server' : 'starting a throwaway embedded PostgreSQL 17');
  const server = await openServer(o.url, o.maxWalSize);
  const f = emptyFigures(o.rows, o.programs, server.label, machine());
  try {
    await part(f, 'copy, writer, swap, seed query', () => mainDataset(server, o, f), server.admin);
    if (!o.copyOnly) await part(f, 'catalog scale', () => scaleDataset(server, o, f), server.admin);
  } finally {
    await server.stop();
  }
  process.stdout.write(`${markdown(f)}\n`);
  if (o.json) process.stdout.write(`${jsonLine(f)}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: Error) => {
    process.stderr.write(`partwise bench: ${redact(e.message)}\n`);
    process.exitCode = 1;
  },
);
