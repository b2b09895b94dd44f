import type pg from 'pg';
import type { Config } from '../config/config.js';
import type { Flags } from './args.js';
import { Journal } from '../journal/journal.js';
import { takeSnapshot } from '../catalog/snapshot.js';
import { copiedOf, countByKey, programList, restMarkerFree } from '../move/programs.js';
import { captureBacklog } from '../move/capture.js';
import type { ProgramState } from '../events.js';

/** `partwise watch`: the checklist app, read-only, following a migration that another terminal runs. */
export async function runWatch(flags: Flags, env: NodeJS.ProcessEnv): Promise<number> {
  const { runApp } = await import('./app.js');
  return runApp(flags, env, { readOnly: true });
}

export interface WatchedProgram {
  program: string;
  label: string | null;
  copied: number;
  total: number;
  state: ProgramState;
}

export interface WatchedCopy {
  programs: WatchedProgram[];
  paused: boolean;
  batchSize: number;
  maxRate: number | null;
  backlog: number;
  /** whether a migrate step is recorded as running */
  copying: boolean;
}

/** Rows per program and labels: read once per watch (one GROUP BY over the source), the copied counts then poll. */
export interface WatchBase {
  programs: ReturnType<typeof programList>;
}

export async function readWatchBase(client: pg.ClientBase, cfg: Config): Promise<WatchBase> {
  const snap = await takeSnapshot(client, cfg);
  const totals = snap.source && snap.source.relkind !== 'p' ? await countByKey(client, cfg) : new Map<string, number>();
  return { programs: programList(snap, cfg, totals, new Map()) };
}

/** The copy's state from the journal only (partwise.copy_progress, partwise.control, the capture log): reads, never writes. */
export async function readWatchedCopy(client: pg.ClientBase, cfg: Config, base: WatchBase): Promise<WatchedCopy | null> {
  const journal = await Journal.find(client, cfg);
  if (!journal) return null;
  const id = journal.migrationId;
  const progress = await client.query<{ program: string; copied: string }>(`SELECT program, copied FROM partwise.copy_progress WHERE migration_id = $1`, [id]);
  const copiedByProgram = new Map(progress.rows.map((r) => [r.program, Number(r.copied)]));
  const markerFree = restMarkerFree(base.programs.flatMap((p) => p.keys));
  const control = (await client.query(`SELECT paused, batch_size, max_rate FROM partwise.control WHERE migration_id = $1`, [id])).rows[0];
  const steps = await journal.latest();
  const copying = steps.some((s) => s.step === 'migrate' && s.status === 'running');
  const programs = base.programs.map((p) => {
    const copied = Math.min(p.total, copiedOf(p, copiedByProgram, markerFree));
    const state: ProgramState = p.total > 0 && copied >= p.total ? 'done' : copied > 0 ? (control?.paused ? 'paused' : copying ? 'copying' : 'waiting') : 'waiting';
    return { program: p.program, label: p.label, copied, total: p.total, state };
  });
  return {
    programs,
    paused: Boolean(control?.paused),
    batchSize: control?.batch_size ?? 10_000,
    maxRate: control?.max_rate ?? null,
    backlog: await captureBacklog(client, cfg, 'forward').catch(() => 0),
    copying,
  };
}
