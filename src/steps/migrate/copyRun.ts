/**
 * What every copy loop of one migrate run shares: the snapshot and the batch target, the programs and their counts,
 * the live controls, the latency guard, the rate clock, the progress reporter, replay, and the checks made between
 * batches (the run lease, schema drift, pause, abort). The strategies (one per mode) and the copy loops read and
 * change it; nothing here decides what to copy.
 */
import type pg from 'pg';
import { takeSnapshot } from '../../catalog/snapshot.js';
import type { Column, Snapshot } from '../../catalog/types.js';
import { ident, qname } from '../../db/quote.js';
import type { ProgramState } from '../../events.js';
import { withTransaction } from '../../exec/transaction.js';
import { captureBacklog, drainLog } from '../../move/capture.js';
import { copiedColumns } from '../../move/captureNames.js';
import { compareData } from '../../move/checksum.js';
import { readControls, type Controls } from '../../move/control.js';
import { readCheckpoints, type CopyTarget, type ProgressCount, type Scope } from '../../move/copy.js';
import { columnsFingerprint } from '../../move/drift.js';
import { effectiveRate, type LatencyGuard } from '../../move/latencyGuard.js';
import { Pacer } from '../../move/pacer.js';
import { REST_PROGRAM, type ProgramEntry } from '../../move/programs.js';
import { sleep } from '../../move/progress.js';
import type { ProgressReporter } from '../../move/progressReporter.js';
import type { RunLease } from '../../move/runLease.js';
import type { StepContext } from '../context.js';
import { repairCopy } from '../repairCopy.js';

export class Interrupted extends Error {}
export class DriftStop extends Error {}

/**
 * Replaces copy_progress for these keys with exact counts (and drops the rest's REST_PROGRAM row when `dropRestMarker`):
 * the batches count what they inserted, replay counts nothing.
 */
export async function recordCopied(client: pg.ClientBase, migrationId: number, perKey: Array<[string, number]>, dropRestMarker: boolean): Promise<void> {
  const keys = perKey.map(([k]) => k);
  await withTransaction(client, {}, async () => {
    await client.query(`DELETE FROM partwise.copy_progress WHERE migration_id = $1 AND program = ANY($2::text[])`, [migrationId, dropRestMarker ? [...keys, REST_PROGRAM] : keys]);
    await client.query(
      `INSERT INTO partwise.copy_progress (migration_id, program, copied) SELECT $1, k, n FROM unnest($2::text[], $3::int8[]) AS u(k, n)`,
      [migrationId, keys, perKey.map(([, n]) => n)],
    );
  });
}

export interface CopyRunInit {
  ctx: StepContext;
  snap: Snapshot;
  lease: RunLease;
  migrationId: number;
  controls: Controls;
  programs: ProgramEntry[];
  byKey: Map<string, ProgramEntry>;
  lookupKeys: string[];
  markerFree: boolean;
  totals: Map<string, number>;
  keyCol: Column;
  byPartition: Map<number, string> | null;
  reporter: ProgressReporter;
  fingerprint: string;
  workers: number;
  /** the bulk copy runs without the copy's secondary indexes: a drift repair does not create them (src/plan/deferIndexes.ts) */
  deferIndexes: boolean;
}

export class CopyRun {
  readonly ctx: StepContext;
  snap: Snapshot;
  readonly lease: RunLease;
  readonly migrationId: number;
  controls: Controls;
  readonly programs: ProgramEntry[];
  readonly byKey: Map<string, ProgramEntry>;
  readonly lookupKeys: string[];
  readonly markerFree: boolean;
  readonly totals: Map<string, number>;
  readonly keyCol: Column;
  /** how batches count per program (see ProgressCount in src/move/copy.ts); null: per key with RETURNING */
  byPartition: Map<number, string> | null;
  readonly reporter: ProgressReporter;
  /** rows older than the capture's install are inserted without ON CONFLICT (see "Speed" in src/move/copy.ts) */
  readonly target: CopyTarget;
  readonly pacer = new Pacer();
  guard: LatencyGuard | null = null;
  guardStopShown = false;
  copiedThisRun = 0;
  /** copy workers: sessions copying disjoint parts at once (1: the copy runs on ctx.client, replay between its batches) */
  readonly workers: number;
  readonly deferIndexes: boolean;
  /** the programs the workers copy now (each worker adds its scope's while it copies it) */
  readonly active = new Map<ProgramEntry, number>();
  /** with several workers: a batch committed (replay runs after it) */
  onBatch: (() => void) | null = null;
  /** a worker failed: the others stop before their next batch */
  failed: unknown = null;
  private fingerprint: string;
  /** every use of ctx.client goes through here: replay, checks and reports of several workers never interleave on it */
  private mainQueue: Promise<unknown> = Promise.resolve();
  /** the checks between batches in flight: workers arriving meanwhile share them */
  private checking: Promise<void> | null = null;

  constructor(init: CopyRunInit) {
    this.ctx = init.ctx;
    this.snap = init.snap;
    this.lease = init.lease;
    this.migrationId = init.migrationId;
    this.controls = init.controls;
    this.programs = init.programs;
    this.byKey = init.byKey;
    this.lookupKeys = init.lookupKeys;
    this.markerFree = init.markerFree;
    this.totals = init.totals;
    this.keyCol = init.keyCol;
    this.byPartition = init.byPartition;
    this.reporter = init.reporter;
    this.fingerprint = init.fingerprint;
    this.workers = init.workers;
    this.deferIndexes = init.deferIndexes;
    this.target = { cfg: init.ctx.cfg, migrationId: init.migrationId, columns: copiedColumns(init.snap, 'forward'), keyType: init.keyCol.type, fastPath: true };
  }

  get client(): pg.Client {
    return this.ctx.client;
  }

  /** RETURNING only when nothing cheaper tells */
  countFor(scope: Scope): ProgressCount {
    if (scope.kind === 'key') return { by: 'scope', program: scope.key };
    if (scope.kind === 'rest') return this.markerFree ? { by: 'scope', program: REST_PROGRAM } : { by: 'returning' };
    return this.byPartition ? { by: 'partition', programOf: this.byPartition } : { by: 'returning' };
  }

  /** the stricter of --max-rate and the guard's rate */
  maxRate(): number | null {
    return effectiveRate(this.controls.maxRate, this.guard?.rate ?? null);
  }

  /** Runs fn alone on ctx.client (after every use of it queued before). */
  onMain<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.mainQueue.then(fn, fn);
    this.mainQueue = next.catch(() => undefined);
    return next;
  }

  overall(): Promise<void> {
    return this.onMain(() => this.overallNow());
  }

  private async overallNow(): Promise<void> {
    this.reporter.overall(await captureBacklog(this.client, this.ctx.cfg, 'forward'), this.controls);
  }

  report(p: ProgramEntry, state?: ProgramState): void {
    this.reporter.program(p, state);
  }

  drain(rounds: number): Promise<number> {
    return this.onMain(() => this.drainNow(rounds));
  }

  private drainNow(rounds: number): Promise<number> {
    return drainLog(this.client, this.snap, this.ctx.cfg, 'forward', { limit: Math.max(this.controls.batchSize, 1000), maxRounds: rounds });
  }

  async doneScopes(): Promise<Set<string>> {
    return new Set((await readCheckpoints(this.client, this.migrationId)).filter((c) => c.done).map((c) => c.scope));
  }

  /**
   * Before each batch: the lease, schema drift, pause, abort. Workers that arrive while another worker's checks run
   * share them (one pause, one drift repair).
   */
  async between(active: ProgramEntry[]): Promise<void> {
    if (this.failed) throw new Interrupted();
    this.checking ??= this.onMain(() => this.checks(this.active.size ? [...this.active.keys()] : active)).finally(() => {
      this.checking = null;
    });
    await this.checking;
  }

  private async checks(active: ProgramEntry[]): Promise<void> {
    const lost = this.lease.lost();
    if (lost) throw new Error(`this migrate no longer holds the copy's lease: ${lost}; it stopped so that two copies never run at once`);
    const fp = await columnsFingerprint(this.client, this.ctx.cfg);
    if (fp !== this.fingerprint) {
      await this.handleDrift();
      this.fingerprint = await columnsFingerprint(this.client, this.ctx.cfg);
    }
    this.controls = await readControls(this.client, this.ctx.cfg);
    await this.pauseIfAsked(active);
  }

  private async handleDrift(): Promise<void> {
    const r = await repairCopy(this.ctx, await takeSnapshot(this.client, this.ctx.cfg), { deferIndexes: this.deferIndexes });
    if (r.refused.length) throw new DriftStop(`schema drift that cannot be repaired in place: ${r.refused.join('; ')}`);
    if (r.repaired.length) {
      this.snap = r.snap;
      this.target.columns = copiedColumns(this.snap, 'forward');
    }
  }

  private async pauseIfAsked(active: ProgramEntry[]): Promise<void> {
    const { signal } = this.ctx;
    let shownPaused = false;
    while (this.controls.paused && !signal?.aborted) {
      if (!shownPaused) {
        this.reporter.setPaused(true, active);
        await this.overallNow();
        shownPaused = true;
      }
      await this.drainNow(5); // the backlog keeps shrinking while paused
      await sleep(1000, signal);
      this.controls = await readControls(this.client, this.ctx.cfg);
      // the rate or batch changed from a terminal while paused: shown now, not only at resume
      if (this.controls.paused && this.reporter.controlsChanged(this.controls)) await this.overallNow();
    }
    if (shownPaused) this.reporter.setPaused(false, active);
    if (signal?.aborted) throw new Interrupted();
  }

  /** the guard's news after a batch: its probe failed, or it moved the rate */
  guardNews(): void {
    const { emit } = this.ctx;
    const guard = this.guard;
    if (!guard) return;
    if (guard.probeError && !this.guardStopShown) {
      this.guardStopShown = true;
      emit({ type: 'warn', message: `latency guard: its probe failed (${guard.probeError}); the guard stopped and no longer limits the copy (${this.controls.maxRate === null ? 'no rate limit now' : `--max-rate ${this.controls.maxRate} rows/s still applies`}; partwise pause / resume and the rate controls still work)` });
    }
    const change = guard.decide(this.reporter.overallRate());
    if (change)
      emit({ type: 'info', message: change.rate === null
        ? `latency guard: commits take ${change.probeMs.toFixed(1)} ms (limit ${change.limitMs.toFixed(1)} ms): the guard no longer limits the copy`
        : `latency guard: commits take ${change.probeMs.toFixed(1)} ms (limit ${change.limitMs.toFixed(1)} ms): copy rate ${change.rate} rows/s` });
  }

  /** after a program is copied: drain, then count + checksum for that program in one snapshot */
  async verifyProgram(p: ProgramEntry): Promise<boolean> {
    const { cfg, emit } = this.ctx;
    this.report(p, 'verifying');
    await this.drain(50);
    let ok = true;
    for (const key of p.keys) {
      const c = await compareData(this.client, this.snap, cfg, key);
      for (const x of c.programs.filter((y) => !y.ok))
        emit({ type: 'verify', item: { id: `data:${x.key}`, status: 'fail', title: `Rows of ${p.label ?? p.program}`, reason: `source ${x.sourceRows} row(s), new ${x.targetRows}; checksums ${x.sourceSum === x.targetSum ? 'equal' : 'differ'}`, details: x.sample.map((s) => `${s.side} only: ${s.key}`) } });
      ok &&= c.ok;
    }
    return ok;
  }

  /** exact counts of the given programs in the new table: their partitions only (pruned by the key list) */
  async finalCounts(of: ProgramEntry[]): Promise<void> {
    const { cfg } = this.ctx;
    const keys = of.flatMap((p) => p.keys);
    const r = await this.client.query<{ k: string; n: string }>(
      `SELECT ${ident(cfg.key)}::text AS k, count(*)::int8 AS n FROM ${qname(cfg.schema, cfg.newTable)} WHERE ${ident(cfg.key)} = ANY($1::text[]::${this.keyCol.type}[]) GROUP BY 1`,
      [keys],
    );
    const inTarget = new Map(r.rows.map((x) => [x.k, Number(x.n)]));
    for (const p of of) p.copied = p.keys.reduce((n, k) => n + (inTarget.get(k) ?? 0), 0);
    await recordCopied(this.client, this.migrationId, keys.map((k) => [k, inTarget.get(k) ?? 0]), this.markerFree && of.some((p) => p.program === REST_PROGRAM));
  }
}
