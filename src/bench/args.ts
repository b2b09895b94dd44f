/** The benchmark's flags: --rows N --programs N --url URL --json --partitions N. */
import { parseRatio } from '../registry/flags.js';

export interface BenchOptions {
  rows: number;
  programs: number;
  /** a server to use instead of a throwaway embedded one (the benchmark creates and drops its own databases there) */
  url?: string;
  json: boolean;
  /** baseline/partwise pairs of the copy throughput measurement */
  pairs: number;
  /** partitions for the catalog and screen cost measurement */
  scalePartitions: number;
  /** pgbench rate (transactions per second) of the concurrent writer */
  writerRate: number;
  /** seconds of the idle writer period */
  idleSeconds: number;
  /** --max-rate of the copy while the writer's latency is measured; null: half the measured baseline, 0: unlimited */
  impactMaxRate: number | null;
  /** partwise's --max-latency-ratio during the application-impact copy; 0: no latency guard */
  impactLatencyRatio: number;
  /** copy workers of the parallel copy measurement (1: not measured) */
  workers: number;
  /** only the copy throughput (and the parallel copy): no writer periods, swap, seed query nor catalog scale */
  copyOnly: boolean;
  /** max_wal_size of the embedded server (default: PostgreSQL's, 1GB); with --url the server's own setting counts */
  maxWalSize?: string;
}

export const USAGE = `usage: npm run bench -- [--rows N] [--programs N] [--url postgres://...] [--json] [--pairs N] [--partitions N] [--rate TPS] [--idle-seconds S] [--impact-max-rate N] [--impact-latency-ratio R] [--max-wal-size SIZE] [--workers N] [--copy-only]
  --rows          demo rows to generate (default 2000000)
  --programs      demo programs (default 50)
  --url           use this server instead of a throwaway embedded PostgreSQL 17; the benchmark creates and drops its own databases
  --json          print one JSON object with the figures as the last line
  --pairs         baseline/partwise pairs of the copy throughput (default 5; the ratio is the median of the pairs')
  --partitions    partitions for the catalog and screen cost (default 1000)
  --rate          concurrent writer's transactions per second (pgbench -R, default 200)
  --idle-seconds  length of the idle writer period, and of the floor period (default 30: the idle p99 is the
                  reference of copy_p99_ratio, and it ranged from 3.2 to 10.5 ms between consecutive 20 s periods on
                  the benchmark's VM; 10 s gives it by the 20th slowest of 2,000 writes)
  --impact-max-rate  partwise's --max-rate (rows/s) during the application-impact copy: the lever a DBA uses to keep
                  the application's latency close to normal (default half the measured baseline; 0 = unlimited)
  --impact-latency-ratio  partwise's --max-latency-ratio during that copy: the latency guard slows the copy while a
                  probe commit takes more than R times its time before the copy (default 1.5; 0 = no guard)
  --workers       also copy with partwise migrate --workers N against the same baseline, in alternating pairs:
                  parallel_copy_ratio (median of the pairs' ratios), and the peak RSS of a migrate with N workers
  --copy-only     only the copy measurements (no writer periods, swap, seed query nor catalog scale)
  --max-wal-size  max_wal_size of the embedded server, e.g. 4GB (default PostgreSQL's 1GB; ignored with --url): what
                  partwise check advises to space out the checkpoints the copy's WAL triggers`;

export function parseBenchArgs(argv: string[]): BenchOptions | string {
  const o: BenchOptions = { rows: 2_000_000, programs: 50, json: false, pairs: 5, scalePartitions: 1000, writerRate: 200, idleSeconds: 30, impactMaxRate: null, impactLatencyRatio: 1.5, workers: 1, copyOnly: false };
  const int = (name: string, v: string | undefined, min: number, maxValue: number): number => {
    const n = Number(v);
    if (v === undefined || !Number.isInteger(n) || n < min || n > maxValue) throw new Error(`${name} needs an integer between ${min} and ${maxValue} (got ${v ?? 'nothing'})`);
    return n;
  };
  try {
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i]!;
      const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
      const value = () => inline ?? argv[++i];
      switch (flag) {
        case '--rows': o.rows = int('--rows', value(), 1000, 1_000_000_000); break;
        case '--programs': o.programs = int('--programs', value(), 2, 10_000); break;
        case '--pairs': o.pairs = int('--pairs', value(), 2, 50); break;
        case '--workers': o.workers = int('--workers', value(), 1, 32); break;
        case '--copy-only': o.copyOnly = true; break;
        case '--partitions': o.scalePartitions = int('--partitions', value(), 2, 10_000); break;
        case '--rate': o.writerRate = int('--rate', value(), 1, 100_000); break;
        case '--idle-seconds': o.idleSeconds = int('--idle-seconds', value(), 2, 3600); break;
        case '--impact-max-rate': o.impactMaxRate = int('--impact-max-rate', value(), 0, 100_000_000); break;
        case '--impact-latency-ratio': {
          const v = value();
          const r = v === '0' ? 0 : v === undefined ? 'not a number' : parseRatio(v);
          if (typeof r !== 'number') throw new Error(`--impact-latency-ratio needs 0 (no guard) or a number from 1.1 to 100 (got ${v ?? 'nothing'})`);
          o.impactLatencyRatio = r;
          break;
        }
        case '--max-wal-size': {
          const v = value();
          if (!v || !/^[0-9]+(MB|GB|TB)$/.test(v)) throw new Error(`--max-wal-size needs a size like 4GB (got ${v ?? 'nothing'})`);
          o.maxWalSize = v;
          break;
        }
        case '--url': {
          const u = value();
          if (!u) throw new Error('--url needs a postgres:// URL');
          o.url = u;
          break;
        }
        case '--json': o.json = true; break;
        case '--help': case '-h': return USAGE;
        default: throw new Error(`unknown flag ${a}`);
      }
    }
  } catch (e) {
    return `${(e as Error).message}\n${USAGE}`;
  }
  return o;
}
