/** Rows per second over a sliding window, and the ETA it implies. Time is passed in (testable, no timers). */
export class RateMeter {
  private samples: Array<{ at: number; rows: number }> = [];

  constructor(private readonly windowMs = 10_000) {}

  add(rows: number, at: number): void {
    this.samples.push({ at, rows });
    while (this.samples.length > 2 && at - this.samples[0]!.at > this.windowMs) this.samples.shift();
  }

  /** rows/s across the window (0 until two samples exist) */
  rate(now: number): number {
    if (this.samples.length < 2) return 0;
    const first = this.samples[0]!;
    const span = (now - first.at) / 1000;
    if (span <= 0) return 0;
    const rows = this.samples.slice(1).reduce((n, s) => n + s.rows, 0);
    return rows / span;
  }
}

export function eta(remaining: number, rowsPerSec: number): number | null {
  if (remaining <= 0) return 0;
  if (rowsPerSec <= 0) return null;
  return Math.ceil(remaining / rowsPerSec);
}

/** 64k blocks = 512 MB of heap at most per batch */
export const MAX_BATCH_BLOCKS = 65_536;

/** How many heap blocks a batch reads to copy about `rows` rows of a scope holding `scopeRows` in `blocks` blocks. */
export function blocksForRows(rows: number, scopeRows: number, blocks: number): number {
  if (blocks <= 0) return 1;
  const density = Math.max(scopeRows, 1) / blocks;
  // capped so that one batch of a sparse program stays a short transaction
  return Math.max(1, Math.min(blocks, MAX_BATCH_BLOCKS, Math.ceil(rows / density)));
}

/** Abortable sleep: resolves early when the signal fires. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
