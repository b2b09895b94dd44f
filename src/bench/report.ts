/** The benchmark's output: a markdown table for people, one JSON object (the last line) for machines. */
import { round } from '../stats.js';

export interface BenchFigures {
  rows: number;
  programs: number;
  server: string;
  machine: string;
  baseline_rows_per_s: number | null;
  partwise_rows_per_s: number | null;
  copy_ratio: number | null;
  copy_runs: Array<{ kind: string; workers?: number; rows_per_s: number | null; seconds: number | null }>;
  /** each pair's partwise / baseline; copy_ratio is their median */
  copy_pair_ratios: number[];
  child_copy_rows_per_s: number | null;
  /** --workers N: partwise with N copy workers against the same baseline, in alternating pairs of their own */
  workers: number | null;
  parallel_baseline_rows_per_s: number | null;
  parallel_rows_per_s: number | null;
  /** median of the pairs' ratios (partwise with N workers / the baseline run next to it) */
  parallel_copy_ratio: number | null;
  parallel_pair_ratios: number[];
  /** VmHWM of a `migrate --mode all --workers N` child process (same method as peak_rss_mb) */
  parallel_peak_rss_mb: number | null;
  /** partwise's --max-rate during the application-impact copy (null: unlimited) */
  impact_copy_max_rate: number | null;
  /** partwise's --max-latency-ratio during that copy (null: no guard); the rate changes it made and its lowest rate */
  impact_latency_ratio: number | null;
  impact_guard_changes: number | null;
  impact_guard_min_rate: number | null;
  idle_p50_ms: number | null;
  idle_p99_ms: number | null;
  idle_max_ms: number | null;
  /** the writer while one backend only spins a CPU (src/bench/cpuFloor.ts); ratio over idle p99 */
  cpu_floor_p50_ms: number | null;
  cpu_floor_p99_ms: number | null;
  cpu_floor_p99_ratio: number | null;
  copy_p50_ms: number | null;
  copy_p99_ms: number | null;
  copy_max_ms: number | null;
  copy_p99_ratio: number | null;
  /** WAL written during the application-impact copy, and the checkpoints its volume requested */
  copy_wal_mb: number | null;
  copy_checkpoints: number | null;
  max_wal_size: string | null;
  swap_p50_ms: number | null;
  swap_p99_ms: number | null;
  swap_max_ms: number | null;
  swap_max_block_ms: number | null;
  swap_seconds: number | null;
  writer_tx: number | null;
  writer_errors: number | null;
  checksums_equal: boolean | null;
  scale_partitions: number | null;
  monitor_query_ms_1000: number | null;
  monitor_frame_ms_1000: number | null;
  migrate_frame_ms_1000: number | null;
  monitor_frame_ms_1000_160x48: number | null;
  migrate_frame_ms_1000_160x48: number | null;
  seed_query_source_ms: number | null;
  seed_query_partitioned_ms: number | null;
  seed_query_ratio: number | null;
  seed_query_small_ratio: number | null;
  /** the seed query with the program id as a literal (pruned while planning), largest program */
  seed_query_literal_ratio: number | null;
  peak_rss_mb: number | null;
  peak_rss_method: string;
  notes: string[];
  errors: string[];
}

export function emptyFigures(rows: number, programs: number, server: string, machine: string): BenchFigures {
  return {
    rows, programs, server, machine, baseline_rows_per_s: null, partwise_rows_per_s: null, copy_ratio: null, copy_runs: [], copy_pair_ratios: [], child_copy_rows_per_s: null,
    workers: null, parallel_baseline_rows_per_s: null, parallel_rows_per_s: null, parallel_copy_ratio: null, parallel_pair_ratios: [], parallel_peak_rss_mb: null, impact_copy_max_rate: null, impact_latency_ratio: null, impact_guard_changes: null, impact_guard_min_rate: null,
    idle_p50_ms: null, idle_p99_ms: null, idle_max_ms: null, cpu_floor_p50_ms: null, cpu_floor_p99_ms: null, cpu_floor_p99_ratio: null, copy_p50_ms: null, copy_p99_ms: null, copy_max_ms: null, copy_p99_ratio: null, copy_wal_mb: null, copy_checkpoints: null, max_wal_size: null,
    swap_p50_ms: null, swap_p99_ms: null, swap_max_ms: null, swap_max_block_ms: null, swap_seconds: null, writer_tx: null, writer_errors: null,
    checksums_equal: null, scale_partitions: null, monitor_query_ms_1000: null, monitor_frame_ms_1000: null, migrate_frame_ms_1000: null, monitor_frame_ms_1000_160x48: null, migrate_frame_ms_1000_160x48: null,
    seed_query_source_ms: null, seed_query_partitioned_ms: null, seed_query_ratio: null, seed_query_small_ratio: null, seed_query_literal_ratio: null,
    peak_rss_mb: null, peak_rss_method: 'VmHWM of the `node bin/partwise migrate --mode all` child process, sampled from /proc/<pid>/status every 100 ms',
    notes: [], errors: [],
  };
}

type Verdict = 'met' | 'MISSED' | 'not measured' | '';

function verdict(value: number | boolean | null, ok: (v: never) => boolean): Verdict {
  if (value === null) return 'not measured';
  return ok(value as never) ? 'met' : 'MISSED';
}

const n = (v: number | null, digits = 2, unit = '') => (v === null ? '-' : `${round(v, digits)!.toLocaleString('en-US')}${unit}`);

export function markdown(f: BenchFigures): string {
  const rows: Array<[string, string, string, Verdict]> = [
    ['Copy: plain INSERT ... SELECT (baseline, median)', n(f.baseline_rows_per_s, 0, ' rows/s'), '', ''],
    ['Copy: partwise migrate --mode all, capture on (median)', n(f.partwise_rows_per_s, 0, ' rows/s'), '', ''],
    [`Copy ratio partwise / baseline (median of the pairs: ${f.copy_pair_ratios.map((x) => n(x, 3)).join(', ') || '-'})`, n(f.copy_ratio, 3), '>= 0.9', verdict(f.copy_ratio, (v: number) => v >= 0.9)],
    [`Copy: partwise migrate --mode all --workers ${f.workers ?? 'N'} (median; its own pairs' baseline ${n(f.parallel_baseline_rows_per_s, 0, ' rows/s')})`, n(f.parallel_rows_per_s, 0, ' rows/s'), '', ''],
    [`Parallel copy ratio, ${f.workers ?? 'N'} workers / baseline (median of the pairs: ${f.parallel_pair_ratios.map((x) => n(x, 3)).join(', ') || '-'})`, n(f.parallel_copy_ratio, 3),
      f.workers === 2 ? '>= 1.5 (2 workers, 2 cores)' : '', f.workers === 2 ? verdict(f.parallel_copy_ratio, (v: number) => v >= 1.5) : ''],
    [`Peak RSS of partwise with ${f.workers ?? 'N'} workers`, n(f.parallel_peak_rss_mb, 1, ' MiB'), '<= 200 MiB', f.workers === null ? '' : verdict(f.parallel_peak_rss_mb, (v: number) => v <= 200)],
    ['Copy in a child process under the writer (wall time, Node start-up included)', n(f.child_copy_rows_per_s, 0, ' rows/s'), '', ''],
    ['Writer idle p50 / p99 / max', `${n(f.idle_p50_ms)} / ${n(f.idle_p99_ms)} / ${n(f.idle_max_ms)} ms`, '', ''],
    ['Copy rate limit while measuring the writer (--max-rate)', f.impact_copy_max_rate === null ? 'unlimited' : n(f.impact_copy_max_rate, 0, ' rows/s'), '', ''],
    ['Latency guard during that copy (--max-latency-ratio): rate changes; lowest rate', f.impact_latency_ratio === null ? 'off' : `${n(f.impact_latency_ratio)}: ${n(f.impact_guard_changes, 0)}; ${f.impact_guard_min_rate === null ? 'never cut' : n(f.impact_guard_min_rate, 0, ' rows/s')}`, '', ''],
    ['Writer during copy p50 / p99 / max', `${n(f.copy_p50_ms)} / ${n(f.copy_p99_ms)} / ${n(f.copy_max_ms)} ms`, '', ''],
    ['Writer p99 during copy / idle p99', n(f.copy_p99_ratio), '<= 2', verdict(f.copy_p99_ratio, (v: number) => v <= 2)],
    ['Floor: writer while one backend only spins a CPU, no I/O, p50 / p99 (p99 / idle p99)', `${n(f.cpu_floor_p50_ms)} / ${n(f.cpu_floor_p99_ms)} ms (${n(f.cpu_floor_p99_ratio)})`, '', ''],
    ['WAL written during that copy; checkpoints it requested (max_wal_size)', `${n(f.copy_wal_mb, 0, ' MiB')}; ${n(f.copy_checkpoints, 0)} (${f.max_wal_size ?? '-'})`, '', ''],
    ['Writer during swap p50 / p99 / max', `${n(f.swap_p50_ms)} / ${n(f.swap_p99_ms)} / ${n(f.swap_max_ms)} ms`, '', ''],
    ['Longest a write was blocked during the swap', n(f.swap_max_block_ms, 1, ' ms'), '<= 1000 ms', verdict(f.swap_max_block_ms, (v: number) => v <= 1000)],
    ['Writer failed transactions (all periods)', n(f.writer_errors, 0), '0', verdict(f.writer_errors, (v: number) => v === 0)],
    ['Checksums equal after the swap', f.checksums_equal === null ? '-' : String(f.checksums_equal), 'true', verdict(f.checksums_equal, (v: boolean) => v)],
    [`Monitor refresh query, ${f.scale_partitions ?? '-'} partitions (median of 20)`, n(f.monitor_query_ms_1000, 2, ' ms'), '<= 100 ms', verdict(f.monitor_query_ms_1000, (v: number) => v <= 100)],
    [`Monitor frame at 80x24, ${f.scale_partitions ?? '-'} partitions (median of 20, production React)`, n(f.monitor_frame_ms_1000, 2, ' ms'), '<= 16 ms', verdict(f.monitor_frame_ms_1000, (v: number) => v <= 16)],
    [`Migrate frame at 80x24, ${f.scale_partitions ?? '-'} programs (median of 20, production React)`, n(f.migrate_frame_ms_1000, 2, ' ms'), '<= 16 ms', verdict(f.migrate_frame_ms_1000, (v: number) => v <= 16)],
    ['Monitor / migrate frame at 160x48', `${n(f.monitor_frame_ms_1000_160x48, 2)} / ${n(f.migrate_frame_ms_1000_160x48, 2)} ms`, '<= 16 ms', verdict(f.monitor_frame_ms_1000_160x48 === null || f.migrate_frame_ms_1000_160x48 === null ? null : Math.max(f.monitor_frame_ms_1000_160x48, f.migrate_frame_ms_1000_160x48), (v: number) => v <= 16)],
    ['Seed query, largest program: plain / partitioned (median of 10)', `${n(f.seed_query_source_ms, 3)} / ${n(f.seed_query_partitioned_ms, 3)} ms`, '', ''],
    ['Seed query speed-up, largest program (plain / partitioned)', n(f.seed_query_ratio, 2, 'x'), 'claim: 10-50x', ''],
    ['Seed query speed-up, smallest program', n(f.seed_query_small_ratio, 2, 'x'), '', ''],
    ['Seed query speed-up, largest program, id as a literal (pruned while planning)', n(f.seed_query_literal_ratio, 2, 'x'), '', ''],
    ['Peak RSS of partwise during the copy', n(f.peak_rss_mb, 1, ' MiB'), '<= 200 MiB', verdict(f.peak_rss_mb, (v: number) => v <= 200)],
  ];
  const out = [
    `partwise benchmark: ${f.rows.toLocaleString('en-US')} rows, ${f.programs} programs, ${f.server}; ${f.machine}`,
    '',
    '| Measure | Result | Target | |',
    '|---|---|---|---|',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    '',
    `Copy runs (alternating): ${f.copy_runs.map((r) => `${r.kind}${r.workers && r.workers > 1 ? ` x${r.workers}` : ''} ${n(r.rows_per_s, 0)} rows/s`).join(', ') || '-'}`,
    `Peak RSS: ${f.peak_rss_method}.`,
  ];
  for (const x of f.notes) out.push(`Note: ${x}`);
  for (const x of f.errors) out.push(`Error: ${x}`);
  return out.join('\n');
}

/** Rounded copy of the figures for the JSON line. */
export function jsonLine(f: BenchFigures): string {
  const r: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(f)) r[k] = typeof v === 'number' ? round(v, 3) : v;
  r.copy_pair_ratios = f.copy_pair_ratios.map((x) => round(x, 3)!);
  r.parallel_pair_ratios = f.parallel_pair_ratios.map((x) => round(x, 3)!);
  r.copy_runs = f.copy_runs.map((x) => ({ ...x, rows_per_s: round(x.rows_per_s, 0), seconds: round(x.seconds, 3) }));
  return JSON.stringify(r);
}
