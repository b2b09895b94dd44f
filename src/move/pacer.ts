/**
 * The copy's rate limit (--max-rate, the latency guard's rate): one clock shared by every copy worker, so the limit
 * holds for their total. Each committed batch moves the clock on by rows / rate; the worker that committed it waits
 * until the clock, so N workers together copy no more than the rate (give or take the batches in flight). With one
 * worker this is the same as waiting rows / rate from the batch's start.
 */
export class Pacer {
  private clock = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * How long (ms) the worker whose batch started at `startedAt` and copied `rows` waits before its next batch, under
   * `rate` rows/s (null: no limit, and the clock does not move).
   */
  after(rows: number, rate: number | null, startedAt: number): number {
    if (!rate) return 0;
    this.clock = Math.max(this.clock, startedAt) + (rows / rate) * 1000;
    return Math.max(0, this.clock - this.now());
  }
}
