/**
 * The latency guard (`partwise migrate --max-latency-ratio R`): the copy slows down when the application's commits
 * do. A probe session of its own commits a one-row update (partwise.latency_probe: the commit waits for its WAL to be
 * flushed, like an application's) every PROBE_EVERY_MS. Before the copy it measures the server's normal commit time; during the
 * copy, about once a second, it compares the probes' p90 (the slow end: the application's tail) with R times that, and the copy's rate follows AIMD:
 * cut by 30 % when the probes are slow, raised by a small step when they are not, never below a floor.
 *
 * Why: the benchmark measured the application's p99 following the copy's rate (2,000,000 rows on 2 cores: 2.8x
 * its idle p99 at 32,000 rows/s, 1.25x at 8,000), and no fixed rate suits every server and every hour.
 */
import type pg from 'pg';
import { openSession } from '../db/session.js';
import { percentile } from '../stats.js';

export const PROBE_EVERY_MS = 100;
/** probes before the copy that set the normal commit time */
export const CALIBRATION_PROBES = 30;
/**
 * The guard watches the slow end of the probes, not their middle: the copy shows in the application's tail first. The
 * benchmark measured probes during a copy at 45,000 rows/s on 2 cores: median 0.49 -> 0.58 ms, p90 0.70 -> 1.99 ms,
 * while the application's p99 went 2.2x.
 */
export const GUARD_PERCENTILE = 90;
/** the copy's rate is never cut below this (rows/s): it always finishes */
export const GUARD_FLOOR_ROWS_PER_S = 500;
const DECIDE_EVERY_MS = 1000;
/** only recent probes count: a pause or a check between programs must not carry into the next decision */
const WINDOW_MS = 3000;
/** a p90 needs a few probes: 10 is about a second of them */
const MIN_WINDOW = 10;

export interface Probe {
  sql: string;
  params: unknown[];
}

/**
 * One probe: a one-row update committed on its own session. It must write WAL: a transaction that only takes an xid
 * (txid_current()) commits without flushing anything, and measured 0.4 ms where the application's commits took 5.
 */
export function migrationProbe(migrationId: number): Probe {
  return {
    sql: `INSERT INTO partwise.latency_probe (migration_id) VALUES ($1) ON CONFLICT (migration_id) DO UPDATE SET probed_at = clock_timestamp()`,
    params: [migrationId],
  };
}

export interface GuardChange {
  /** the new rate limit in rows/s; null: no limit from the guard */
  rate: number | null;
  probeMs: number;
  limitMs: number;
}

/**
 * AIMD, pure. `current`: the guard's rate (null: not limiting yet); `copyRate`: what the copy achieves now;
 * `slow`: the probes' p90 is over the limit. A cut starts from the copy's achieved rate when the guard was not
 * limiting; a raise adds `step`; a raise past `ceiling` lifts the guard's limit altogether.
 */
export function nextGuardRate(current: number | null, copyRate: number, slow: boolean, step: number, ceiling: number): number | null {
  if (slow) {
    const from = current ?? Math.max(copyRate, GUARD_FLOOR_ROWS_PER_S);
    return Math.max(GUARD_FLOOR_ROWS_PER_S, Math.round(from * 0.7));
  }
  if (current === null) return null;
  const raised = current + step;
  return raised > ceiling ? null : raised;
}

export class LatencyGuard {
  private window: Array<{ at: number; ms: number }> = [];
  private timer: NodeJS.Timeout | null = null;
  private lastDecision = 0;
  private stopped = false;
  private inFlight: Promise<void> = Promise.resolve();
  /** rows/s the guard allows; null while it does not limit */
  rate: number | null = null;
  /** the copy's rate when the guard last started limiting: steps and the ceiling are measured from it */
  private reference: number | null = null;
  probeError: string | null = null;

  private constructor(
    private readonly session: pg.Client,
    readonly ratio: number,
    readonly baselineMs: number,
    private readonly probeQuery: Probe,
  ) {}

  /** Opens the probe session, measures the normal commit time, starts probing. */
  static async start(config: pg.ClientConfig, ratio: number, probeQuery: Probe): Promise<LatencyGuard> {
    const session = await openSession(config, { statementTimeoutMs: 10_000 });
    try {
      const times: number[] = [];
      for (let i = 0; i < CALIBRATION_PROBES; i++) {
        times.push(await probe(session, probeQuery));
        await new Promise((r) => setTimeout(r, PROBE_EVERY_MS / 2));
      }
      const guard = new LatencyGuard(session, ratio, percentile(times, GUARD_PERCENTILE), probeQuery);
      guard.schedule();
      return guard;
    } catch (e) {
      await session.end().catch(() => undefined);
      throw e;
    }
  }

  get limitMs(): number {
    return this.baselineMs * this.ratio;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.inFlight = probe(this.session, this.probeQuery).then(
        (ms) => {
          const now = Date.now();
          this.window.push({ at: now, ms });
          this.window = this.window.filter((x) => now - x.at <= WINDOW_MS);
          this.schedule();
        },
        (e: Error) => {
          // a failing probe stops the guard, never the copy: it no longer limits (the user's --max-rate still does)
          this.probeError = e.message;
          this.rate = null;
        },
      );
    }, PROBE_EVERY_MS);
  }

  /**
   * After a batch: about once a second, compares the window's p90 with the limit and moves the rate.
   * Returns the change when the rate moved. The window then starts again: the probes before a change measured the
   * old rate, and one slow moment must not cut twice.
   */
  decide(copyRate: number, now: number = Date.now()): GuardChange | null {
    // no verdict without a measured copy rate (the first batches) nor after the probe failed
    if (this.probeError !== null || copyRate <= 0 || now - this.lastDecision < DECIDE_EVERY_MS) return null;
    const recent = this.window.filter((x) => now - x.at <= WINDOW_MS);
    if (recent.length < MIN_WINDOW) return null;
    const probeMs = percentile(recent.map((x) => x.ms), GUARD_PERCENTILE);
    this.lastDecision = now;
    const slow = probeMs > this.limitMs;
    if (slow && this.rate === null) this.reference = Math.max(copyRate, GUARD_FLOOR_ROWS_PER_S);
    const ref = this.reference ?? GUARD_FLOOR_ROWS_PER_S;
    const next = nextGuardRate(this.rate, copyRate, slow, Math.max(50, Math.round(ref * 0.05)), ref * 2);
    if (next === this.rate) return null;
    this.rate = next;
    this.window = [];
    return { rate: next, probeMs, limitMs: this.limitMs };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.inFlight.catch(() => undefined);
    await this.session.end().catch(() => undefined);
  }
}

async function probe(session: pg.Client, q: Probe): Promise<number> {
  const t0 = performance.now();
  await session.query(q.sql, q.params);
  return performance.now() - t0;
}

/** The stricter of the user's rate limit and the guard's (null: none). */
export function effectiveRate(userRate: number | null, guardRate: number | null): number | null {
  if (userRate === null) return guardRate;
  if (guardRate === null) return userRate;
  return Math.min(userRate, guardRate);
}
