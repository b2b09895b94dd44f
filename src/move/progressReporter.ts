/**
 * The copy's progress events (migrate): each program's rate and ETA from that program's own copied rows over time,
 * the overall ones from all rows; while paused every rate is 0 and there is no ETA. In `all` mode one pass over the
 * table copies every program at once, so their bars move together, each at its own rate.
 */
import type { Emit, ProgramState } from '../events.js';
import type { Controls } from './control.js';
import type { ProgramEntry } from './programs.js';
import { eta, RateMeter } from './progress.js';

export type CopyMode = 'one' | 'all' | 'gradual';

export class ProgressReporter {
  private readonly meters = new Map<string, RateMeter>();
  private overallMeter = new RateMeter();
  private paused = false;
  private shown: { batchSize: number; maxRate: number | null; paused: boolean } | null = null;

  constructor(
    private readonly emit: Emit,
    private readonly mode: CopyMode,
    private readonly programs: ProgramEntry[],
    private readonly now: () => number = Date.now,
  ) {}

  private meter(p: ProgramEntry): RateMeter {
    let m = this.meters.get(p.program);
    if (!m) this.meters.set(p.program, (m = new RateMeter()));
    return m;
  }

  /** After a committed batch: `counts` the rows it copied per program; every active program gets a sample (0 too). */
  batch(active: ProgramEntry[], counts: Map<ProgramEntry, number>, rows: number): void {
    const at = this.now();
    for (const p of active) this.meter(p).add(counts.get(p) ?? 0, at);
    this.overallMeter.add(rows, at);
  }

  /** rows/s of the whole copy over the last seconds (the latency guard's measure) */
  overallRate(): number {
    return this.overallMeter.rate(this.now());
  }

  /** One program's bar; `state` changes it first. */
  program(p: ProgramEntry, state?: ProgramState): void {
    if (state) p.state = state;
    const rate = p.state === 'copying' && !this.paused ? this.meter(p).rate(this.now()) : 0;
    const copied = Math.min(p.copied, p.total);
    this.emit({ type: 'progress', program: p.program, label: p.label, copied, total: p.total, rowsPerSec: rate, etaSec: eta(p.total - copied, rate), state: p.state });
  }

  /** The overall line with the capture backlog and the controls in force. */
  overall(backlog: number, controls: Controls): void {
    const copied = this.programs.reduce((n, p) => n + Math.min(p.copied, p.total), 0);
    const total = this.programs.reduce((n, p) => n + p.total, 0);
    const rate = this.paused ? 0 : this.overallMeter.rate(this.now());
    this.shown = { batchSize: controls.batchSize, maxRate: controls.maxRate, paused: controls.paused };
    this.emit({
      type: 'progress.overall', copied, total, rowsPerSec: rate, etaSec: eta(total - copied, rate), backlog,
      paused: this.paused, batchSize: controls.batchSize, maxRate: controls.maxRate, mode: this.mode,
    });
  }

  /** Whether the controls differ from the last overall line (changed from another terminal while paused). */
  controlsChanged(controls: Controls): boolean {
    return this.shown === null || this.shown.batchSize !== controls.batchSize || this.shown.maxRate !== controls.maxRate || this.shown.paused !== controls.paused;
  }

  /** Paused: rates 0 and no ETA until resumed; the rates then start afresh (the pause is not averaged in). */
  setPaused(paused: boolean, active: ProgramEntry[]): void {
    this.paused = paused;
    if (!paused) {
      for (const p of active) this.meters.set(p.program, new RateMeter());
      this.overallMeter = new RateMeter();
    }
    for (const p of active) this.program(p, paused ? 'paused' : 'copying');
  }
}
