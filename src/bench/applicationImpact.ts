/**
 * Items 2, 3 and 6: the application's writes (pgbench) while idle, while partwise copies (in a child process, its
 * peak RSS sampled), and while it swaps; then the checksum comparison after the swap.
 */
import { takeSnapshot } from '../catalog/snapshot.js';
import { qname } from '../db/quote.js';
import { replayBatch } from '../move/capture.js';
import { compareData } from '../move/checksum.js';
import { runSwap } from '../steps/swap.js';
import { runVerifyData } from '../steps/verifyData.js';
import type { StepContext } from '../steps/context.js';
import { runChildMigrate, type ChildMigrate } from './childMigrate.js';
import { withSpinningBackend } from './cpuFloor.js';
import { max, percentile } from '../stats.js';
import { walMark, walSince, type WalActivity } from './walActivity.js';
import { runWriterChunk, startWriter, writerSetupSql, type WriterChunk, type WriterOptions, type WriterTransaction } from './writer.js';

export interface LatencySummary {
  transactions: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface ApplicationImpact {
  /** the writer's unmeasured first seconds (reported only to show they ran) */
  warmup: LatencySummary;
  idle: LatencySummary;
  /** while one backend only spins a CPU (src/bench/cpuFloor.ts): the floor of any copy's cost on this machine */
  cpuFloor: LatencySummary;
  cpuFloorSpins: number;
  copy: LatencySummary;
  swap: LatencySummary;
  /** the longest transaction that overlapped the swap: how long a write was held up at most */
  swapMaxBlockMs: number;
  swapSeconds: number;
  swapOk: boolean;
  swapSummary: string;
  writerErrors: number;
  writerMessages: string[];
  migrate: ChildMigrate;
  /** WAL written and checkpoints requested while the child copied */
  copyWal: WalActivity;
  /** rows in the partitioned table after the copy, over the child's wall time (Node start-up included) */
  childRowsPerSec: number;
  verifyOk: boolean;
  verifySummary: string;
  /** after the swap and the reverse-capture drain: the partitioned table against the original (now the old table) */
  checksumsEqual: boolean;
  checksumRows: number;
  checksumSummary: string;
}

/** the writer runs this long, unmeasured, before its idle period */
export const WARMUP_SECONDS = 10;

export function summarize(txs: WriterTransaction[]): LatencySummary {
  const ok = txs.filter((t) => !t.failed).map((t) => t.latencyMs);
  return { transactions: txs.length, p50Ms: percentile(ok, 50), p99Ms: percentile(ok, 99), maxMs: max(ok) };
}

/** Transactions that were in flight at some moment of [fromMs, toMs] (start = end - latency). */
function overlapping(txs: WriterTransaction[], fromMs: number, toMs: number): WriterTransaction[] {
  return txs.filter((t) => t.endMs >= fromMs && t.endMs - t.latencyMs <= toMs);
}

export async function measureApplicationImpact(
  ctx: StepContext,
  env: NodeJS.ProcessEnv,
  o: { rate: number; idleSeconds: number; warmupSeconds?: number; rows: number; programs: number; maxRate: number; latencyRatio?: number },
  progress: (msg: string) => void,
): Promise<ApplicationImpact> {
  const { client, cfg } = ctx;
  const ids = Math.max(100, Math.min(20_000, Math.floor(o.rows / 4)));
  await client.query(`SELECT set_config('partwise.bench_ids', $1, false)`, [String(ids)]);
  await client.query(writerSetupSql());
  const sampled = Number((await client.query(`SELECT count(*)::int8 AS n FROM partwise_bench.ids`)).rows[0].n);
  const w: WriterOptions = { env, rate: o.rate, ids: sampled, programs: o.programs };
  const errors: string[] = [];
  let writerErrors = 0;
  /** every writer period's failures count, whether or not the period is measured */
  const tally = (c: WriterChunk): WriterChunk => {
    writerErrors += c.errors;
    errors.push(...c.messages);
    return c;
  };

  // unmeasured: the writer's first seconds pay for cold caches (new backends, and the pages it touches, evicted by the
  // throughput runs before); the idle period is the reference of copy_p99_ratio and must be the steady state
  const warmupSeconds = o.warmupSeconds ?? WARMUP_SECONDS;
  progress(`writer warm-up (${warmupSeconds} s, not measured)`);
  const warm = tally(await runWriterChunk(w, warmupSeconds));

  progress(`writer idle period (${o.idleSeconds} s at ${o.rate} tx/s)`);
  const idle = tally(await runWriterChunk(w, o.idleSeconds));

  progress(`writer while one backend only spins a CPU (${o.idleSeconds} s): the floor of any copy's cost here`);
  const floor = await withSpinningBackend(ctx.connection, async () => tally(await runWriterChunk(w, o.idleSeconds)));

  const copyArgs = [...(o.maxRate ? ['--max-rate', String(o.maxRate)] : []), ...(o.latencyRatio ? ['--max-latency-ratio', String(o.latencyRatio)] : [])];
  progress(`copy in a child process (partwise migrate --mode all ${copyArgs.join(' ')}) under the writer`);
  const copyWriter = startWriter(w, 5);
  await sleep(1000);
  const mark = await walMark(client);
  const migrate = await runChildMigrate(env, copyArgs);
  const copyWal = await walSince(client, mark);
  const copyTx = tally(await copyWriter.stop());
  if (migrate.exitCode !== 0) throw new Error(`partwise migrate exited with ${migrate.exitCode}: ${migrate.tail.join(' | ')}`);
  const copied = Number((await client.query(`SELECT count(*)::int8 AS n FROM ${qname(cfg.schema, cfg.newTable)}`)).rows[0].n);

  progress('verify --data');
  const verify = await runVerifyData(ctx);

  progress('swap under the writer');
  const lead = 3;
  const swapWriter = runWriterChunk(w, lead + 10);
  await sleep(lead * 1000);
  const swapStart = Date.now();
  const swap = await runSwap(ctx);
  const swapEnd = Date.now();
  const swapTx = tally(await swapWriter);
  const during = overlapping(swapTx.transactions, swapStart, swapEnd);

  progress('checksums after the swap');
  const check = swap.ok ? await compareAfterSwap(ctx) : { ok: false, rows: 0, summary: `not compared: the swap failed (${swap.summary})` };

  return {
    warmup: summarize(warm.transactions),
    idle: summarize(idle.transactions),
    cpuFloor: summarize(floor.result.transactions),
    cpuFloorSpins: floor.spins,
    copy: summarize(copyTx.transactions.filter((t) => t.endMs >= migrate.startMs && t.endMs <= migrate.endMs)),
    swap: summarize(during),
    swapMaxBlockMs: max(during.filter((t) => !t.failed).map((t) => t.latencyMs)),
    swapSeconds: (swapEnd - swapStart) / 1000,
    swapOk: swap.ok,
    swapSummary: swap.summary,
    writerErrors,
    writerMessages: errors.slice(0, 5),
    migrate,
    copyWal,
    childRowsPerSec: copied / migrate.seconds,
    verifyOk: verify.ok,
    verifySummary: verify.summary,
    checksumsEqual: check.ok,
    checksumRows: check.rows,
    checksumSummary: check.summary,
  };
}

/**
 * After the swap the application writes the partitioned table and reverse capture logs them for the old one.
 * Drain that log, then compare both with verify --data's checksum code (src/move/checksum.ts) by looking at the
 * pair the other way round: the old table as the plain source, the partitioned table as the copy.
 */
export async function compareAfterSwap(ctx: StepContext): Promise<{ ok: boolean; rows: number; summary: string }> {
  const { client, cfg } = ctx;
  const snap = await takeSnapshot(client, cfg);
  while ((await replayBatch(client, snap, cfg, 'reverse', 10_000)) > 0);
  const reversed = { ...cfg, table: cfg.oldTable, newTable: cfg.table };
  const c = await compareData(client, await takeSnapshot(client, reversed), reversed);
  const bad = c.programs.filter((p) => !p.ok);
  return {
    ok: c.ok,
    rows: c.rowsCompared,
    summary: c.ok
      ? `${c.programs.length} program(s), ${c.rowsCompared} row(s): counts and checksums equal`
      : `${bad.length} program(s) differ: ${bad.slice(0, 5).map((p) => `${p.key}: ${p.sourceRows} vs ${p.targetRows}`).join('; ')}`,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
