/**
 * The benchmark's dataset: the demo schema and seed (src/demo/seedDemo.ts) at the requested size, minus what would
 * stop the swap (checked, not assumed), then `partwise create`.
 */
import type pg from 'pg';
import { takeSnapshot } from '../catalog/snapshot.js';
import { resolveConfig, type Config } from '../config/config.js';
import { openSession } from '../db/session.js';
import { qname } from '../db/quote.js';
import { seedDemo } from '../demo/seedDemo.js';
import type { EngineEvent } from '../events.js';
import { runCreate } from '../steps/create.js';
import type { StepContext } from '../steps/context.js';

export const BENCH_RETRY = { lockTimeoutMs: 1000, attempts: 10, baseDelayMs: 100, maxDelayMs: 2000 };

export interface EngineSession {
  ctx: StepContext;
  events: EngineEvent[];
  close(): Promise<void>;
}

/** A StepContext on its own session, collecting the engine's events (the benchmark prints only its figures). */
export async function engineSession(config: pg.ClientConfig, cfg: Config = resolveConfig({})): Promise<EngineSession> {
  const client = await openSession(config, { statementTimeoutMs: 0 });
  const events: EngineEvent[] = [];
  const ctx: StepContext = { client, connection: config, cfg, emit: (e) => events.push(e), retry: BENCH_RETRY, poolerProblem: null };
  return { ctx, events, close: () => client.end().catch(() => undefined) };
}

/**
 * Foreign keys into the table that do not contain the partition key make the swap refuse
 * (docs/behaviours/foreign-key-into-partitioned-table.md): the demo's petri_images has one. The benchmark drops such
 * referencing tables and says so.
 */
export async function dropSwapBlockers(ctx: StepContext): Promise<string[]> {
  const snap = await takeSnapshot(ctx.client, ctx.cfg);
  const blocked = (snap.source?.foreignKeysIn ?? []).filter((f) => !f.refColumns.includes(ctx.cfg.key));
  const notes: string[] = [];
  for (const f of blocked) {
    await ctx.client.query(`DROP TABLE IF EXISTS ${qname(f.fromSchema, f.fromTable)}`);
    notes.push(`${f.fromSchema}.${f.fromTable} was dropped before the run: its foreign key ${f.name} references ${ctx.cfg.table} by (${f.refColumns.join(', ')}) without ${ctx.cfg.key}, which makes partwise swap refuse (docs/behaviours/foreign-key-into-partitioned-table.md)`);
  }
  return notes;
}

/** Seeds the demo, removes swap blockers, creates the partitioned table; returns notes for the report. */
export async function prepareDataset(s: EngineSession, rows: number, programs: number): Promise<string[]> {
  await seedDemo(s.ctx.client, { rows, programs });
  const notes = await dropSwapBlockers(s.ctx);
  const created = await runCreate(s.ctx);
  if (!created.ok) throw new Error(`partwise create failed: ${created.summary}`);
  return notes;
}
