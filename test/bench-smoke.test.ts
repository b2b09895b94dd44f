/**
 * The benchmark's parts at a tiny size against the real server: each runs and yields its figures, and the report
 * carries every JSON key the issue asks for. No timing assertions: speed is what the benchmark reports, not a test.
 */
import { describe, expect, it } from 'vitest';
import { measureApplicationImpact } from '../src/bench/applicationImpact.js';
import { parseBenchArgs } from '../src/bench/args.js';
import { measureCatalogScale } from '../src/bench/catalogScale.js';
import { measureCopyThroughput } from '../src/bench/copyThroughput.js';
import { emptyFigures, jsonLine, markdown } from '../src/bench/report.js';
import { measureSeedQuery } from '../src/bench/seedQuery.js';
import { engineSession, prepareDataset } from '../src/bench/setup.js';
import { median, percentile } from '../src/stats.js';
import { parseLog } from '../src/bench/writer.js';
import { libpqEnvFor } from '../src/bench/server.js';
import { profileText } from '../src/bench/waitSampler.js';
import { createTestDatabase } from './helpers/db.js';

const REQUIRED_KEYS = [
  'rows', 'baseline_rows_per_s', 'partwise_rows_per_s', 'copy_ratio', 'idle_p99_ms', 'copy_p99_ms', 'copy_p99_ratio', 'swap_max_block_ms',
  'writer_errors', 'checksums_equal', 'monitor_query_ms_1000', 'monitor_frame_ms_1000', 'migrate_frame_ms_1000', 'seed_query_ratio', 'peak_rss_mb',
  'workers', 'parallel_copy_ratio', 'parallel_pair_ratios', 'parallel_peak_rss_mb',
];

describe('bench: pure parts', () => {
  it('parses flags, rejects bad ones', () => {
    expect(parseBenchArgs(['--rows', '5000', '--programs', '7', '--json'])).toMatchObject({ rows: 5000, programs: 7, json: true });
    expect(parseBenchArgs(['--rows=12000'])).toMatchObject({ rows: 12000, programs: 50 });
    expect(parseBenchArgs(['--rows', 'many'])).toMatch(/--rows needs an integer/);
    expect(parseBenchArgs(['--frobnicate'])).toMatch(/unknown flag --frobnicate/);
    expect(parseBenchArgs(['--max-wal-size', '4GB'])).toMatchObject({ maxWalSize: '4GB' });
    expect(parseBenchArgs(['--max-wal-size', '4 GB; DROP'])).toMatch(/--max-wal-size needs a size/);
    expect(parseBenchArgs(['--pairs', '7'])).toMatchObject({ pairs: 7 });
    expect(parseBenchArgs([])).toMatchObject({ workers: 1, copyOnly: false });
    expect(parseBenchArgs(['--workers', '2', '--copy-only'])).toMatchObject({ workers: 2, copyOnly: true });
    expect(parseBenchArgs(['--workers', '0'])).toMatch(/--workers needs an integer between 1/);
    expect(parseBenchArgs([])).toMatchObject({ pairs: 5 });
    expect(parseBenchArgs(['--pairs', '1'])).toMatch(/--pairs needs an integer between 2/);
    expect(parseBenchArgs([])).toMatchObject({ impactLatencyRatio: 1.5 });
    expect(parseBenchArgs(['--impact-latency-ratio', '0'])).toMatchObject({ impactLatencyRatio: 0 });
    expect(parseBenchArgs(['--impact-latency-ratio', '2.5'])).toMatchObject({ impactLatencyRatio: 2.5 });
    expect(parseBenchArgs(['--impact-latency-ratio', '1'])).toMatch(/--impact-latency-ratio needs 0 \(no guard\) or a number from 1\.1/);
  });

  it('the wait profile in words: largest first, small shares summed', () => {
    expect(profileText(new Map([['LWLock:WALInsert', 9], ['CPU', 90], ['IO:DataFileRead', 1]]))).toBe('CPU 90%, LWLock:WALInsert 9%, other 1% (100 samples)');
    expect(profileText(new Map())).toBe('no samples');
  });

  it('median and percentiles', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 99)).toBe(10);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50)).toBe(5);
  });

  it("reads pgbench's per-transaction log, failed transactions included", () => {
    const txs = parseLog('0 1 2500 0 1700000000 500000 120\n1 7 failed 0 1700000001 0 0\n');
    expect(txs).toEqual([
      { client: 0, seq: 1, endMs: 1700000000500, latencyMs: 2.5, failed: false },
      { client: 1, seq: 7, endMs: 1700000001000, latencyMs: 0, failed: true },
    ]);
  });

  it('the JSON line has every key the issue lists, the table marks misses', () => {
    const f = emptyFigures(1000, 3, 'test server', 'test machine');
    f.copy_ratio = 0.5;
    f.copy_pair_ratios = [0.45, 0.5, 0.6];
    Object.assign(f, { workers: 2, parallel_copy_ratio: 1.2, parallel_pair_ratios: [1.1, 1.2, 1.3], parallel_peak_rss_mb: 150 });
    f.checksums_equal = true;
    Object.assign(f, { idle_p99_ms: 5, cpu_floor_p50_ms: 3, cpu_floor_p99_ms: 20, cpu_floor_p99_ratio: 4, impact_latency_ratio: 1.5, impact_guard_changes: 3, impact_guard_min_rate: 7000 });
    const json = JSON.parse(jsonLine(f));
    for (const k of REQUIRED_KEYS) expect(json).toHaveProperty(k);
    const md = markdown(f);
    expect(md).toMatch(/\| Copy ratio partwise \/ baseline \(median of the pairs: 0\.45, 0\.5, 0\.6\) \| 0\.5 \| >= 0\.9 \| MISSED \|/);
    expect(json.copy_pair_ratios).toEqual([0.45, 0.5, 0.6]);
    expect(md).toMatch(/\| Parallel copy ratio, 2 workers \/ baseline \(median of the pairs: 1\.1, 1\.2, 1\.3\) \| 1\.2 \| >= 1\.5 \(2 workers, 2 cores\) \| MISSED \|/);
    expect(md).toMatch(/\| Peak RSS of partwise with 2 workers \| 150 MiB \| <= 200 MiB \| met \|/);
    expect(md).toMatch(/\| Floor: writer while one backend only spins a CPU, no I\/O, p50 \/ p99 \(p99 \/ idle p99\) \| 3 \/ 20 ms \(4\) \|/);
    expect(json.cpu_floor_p99_ratio).toBe(4);
    expect(md).toMatch(/\| Latency guard during that copy \(--max-latency-ratio\): rate changes; lowest rate \| 1\.5: 3; 7,000 rows\/s \|/);
    expect(md).toMatch(/\| Checksums equal after the swap \| true \| true \| met \|/);
    expect(md).toMatch(/not measured/);
  });
});

describe('bench: parts against the server (tiny)', () => {
  // the copy under load runs bin/partwise, i.e. dist/ (built by globalSetup)

  it('copy throughput, writer periods with swap and checksums, seed query', async () => {
    const db = await createTestDatabase('pw_test_bench');
    const s = await engineSession(db.config);
    try {
      await prepareDataset(s, 3000, 3);
      const copy = await measureCopyThroughput(s.ctx, 2);
      expect(copy.runs.map((r) => r.kind).sort()).toEqual(['baseline', 'baseline', 'partwise', 'partwise']);
      for (const r of copy.runs) expect(r.rows).toBe(3000);
      expect(copy.ratio).toBeGreaterThan(0);
      // the ratio is the median of the pairs' own ratios, each partwise run against the baseline run beside it
      expect(copy.pairRatios).toHaveLength(2);
      const pair = (i: number, k: string) => copy.runs.slice(2 * i, 2 * i + 2).find((r) => r.kind === k)!.rowsPerSec;
      for (const i of [0, 1]) expect(copy.pairRatios[i]).toBeCloseTo(pair(i, 'partwise') / pair(i, 'baseline'), 9);
      expect(copy.ratio).toBeCloseTo((copy.pairRatios[0]! + copy.pairRatios[1]!) / 2, 9);
      // --workers 2: the same pairs against the baseline, partwise with two copy workers
      const parallel = await measureCopyThroughput(s.ctx, 2, undefined, 2);
      expect(parallel.runs.map((r) => `${r.kind} ${r.workers}`).sort()).toEqual(['baseline 1', 'baseline 1', 'partwise 2', 'partwise 2']);
      for (const r of parallel.runs) expect(r.rows).toBe(3000);
      expect(parallel.pairRatios).toHaveLength(2);

      const impact = await measureApplicationImpact(s.ctx, libpqEnvFor(db.config), { rate: 50, idleSeconds: 2, warmupSeconds: 2, rows: 3000, programs: 3, maxRate: 2000, latencyRatio: 2 }, () => undefined);
      // the writer warmed up (unmeasured) before the idle period that copy_p99_ratio divides by
      expect(impact.warmup.transactions).toBeGreaterThan(0);
      expect(impact.idle.transactions).toBeGreaterThan(0);
      // the floor reference: the writer ran while a backend spun, and it did spin
      expect(impact.cpuFloor.transactions).toBeGreaterThan(0);
      expect(impact.cpuFloorSpins).toBeGreaterThan(0);
      expect(impact.swapOk).toBe(true);
      expect(impact.writerErrors, impact.writerMessages.join('\n')).toBe(0);
      expect(impact.verifyOk).toBe(true);
      expect(impact.checksumsEqual).toBe(true);
      expect(impact.checksumRows).toBeGreaterThan(0);
      expect(impact.migrate.exitCode).toBe(0);
      // the child ran with the latency guard: its calibration line was read from the child's output
      expect(impact.migrate.guardLines[0]).toMatch(/latency guard: a commit takes [\d.]+ ms before the copy/);
      // the copy's WAL and the checkpoints it requested are measured, not assumed
      expect(impact.copyWal.walBytes).toBeGreaterThan(0);
      expect(impact.copyWal.requestedCheckpoints).toBeGreaterThanOrEqual(0);
      expect(impact.copyWal.maxWalSize).toMatch(/^\d+(kB|MB|GB|TB)$/);
      if (process.platform === 'linux') expect(impact.migrate.peakRssMb).toBeGreaterThan(10);

      const q = await measureSeedQuery(s.ctx.client, s.ctx.cfg, 2);
      expect(q.length).toBeGreaterThan(0);
      for (const p of q) {
        expect(p.rows).toBeGreaterThan(0);
        expect(p.sourceMs).toBeGreaterThan(0);
        expect(p.partitionedMs).toBeGreaterThan(0);
        expect(p.literalSourceMs).toBeGreaterThan(0);
        expect(p.literalPartitionedMs).toBeGreaterThan(0);
      }
    } finally {
      await s.close();
      await db.drop();
    }
  }, 240_000);

  it('catalog scale: monitor query and both screens render', async () => {
    const db = await createTestDatabase('pw_test_bench_scale');
    const s = await engineSession(db.config);
    try {
      await prepareDataset(s, 2000, 12);
      const c = await measureCatalogScale(s.ctx, 3);
      expect(c.partitions).toBe(13); // one per program and the default
      for (const v of [c.monitorQueryMs, c.monitorFrameMs, c.migrateFrameMs, c.monitorFrameLargeMs, c.migrateFrameLargeMs]) expect(v).toBeGreaterThan(0);
    } finally {
      await s.close();
      await db.drop();
    }
  }, 120_000);
});
