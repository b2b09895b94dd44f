/**
 * The floor under copy_p99_ratio on this machine: the writer's latency while one server backend does nothing but
 * spin a CPU (no table read, no write, no WAL). Any copy keeps one backend busy; on a machine with few cores that
 * alone delays the application's backends, which wait for a CPU at every round trip. copy_p99_ratio is read
 * against this figure: a copy cannot cost the application less than a backend that only computes.
 */
import type pg from 'pg';
import { connect } from './server.js';

/** What the spinning backend runs, again and again: about a quarter of a second of arithmetic, no I/O. */
export const SPIN_SQL = 'SELECT count(*) FROM generate_series(1, 2000000)';

/** Runs `work` while one backend of the server spins; returns its result and how many spins ran. */
export async function withSpinningBackend<T>(config: pg.ClientConfig, work: () => Promise<T>): Promise<{ result: T; spins: number }> {
  const spinner = await connect(config);
  let stop = false;
  let spins = 0;
  let failed: Error | null = null;
  const loop = (async () => {
    while (!stop) {
      await spinner.query(SPIN_SQL);
      spins++;
    }
  })().catch((e: Error) => {
    failed = e;
  });
  try {
    const result = await work();
    if (failed) throw new Error(`the spinning backend failed, so the floor was not measured: ${(failed as Error).message}`);
    return { result, spins };
  } finally {
    stop = true;
    await loop.catch(() => undefined);
    await spinner.end().catch(() => undefined);
  }
}
