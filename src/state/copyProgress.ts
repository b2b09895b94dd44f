/**
 * The copy's progress per program as the journal has it (partwise.copy_progress), for a terminal that does not run
 * the copy: `watch`, and the migrate screen before it resumes a copy. Reads only; the rows per program come from
 * what migrate journaled when it started (counted here only before any migrate did).
 */
import type pg from 'pg';
import type { Config } from '../config/config.js';
import { takeSnapshot } from '../catalog/snapshot.js';
import type { EngineEvent, ProgramState } from '../events.js';
import { copiedOf, countByKey, programList, restMarkerFree } from '../move/programs.js';
import { eta } from '../move/progress.js';
import { readMigrationState } from './readState.js';

type ProgressEvent = Extract<EngineEvent, { type: 'progress' }>;
type OverallEvent = Extract<EngineEvent, { type: 'progress.overall' }>;

/** Rows per program and labels: read once; the copied counts are then polled. */
export interface CopyBase {
  programs: ReturnType<typeof programList>;
}

export async function readCopyBase(client: pg.ClientBase, cfg: Config): Promise<CopyBase> {
  const snap = await takeSnapshot(client, cfg);
  const journaled = await journaledTotals(client, cfg);
  const totals = journaled ?? (snap.source && snap.source.relkind !== 'p' ? await countByKey(client, cfg) : new Map<string, number>());
  return { programs: programList(snap, cfg, totals, new Map()) };
}

/** The rows per key the current copy's latest migrate counted when it started (null when none did). */
async function journaledTotals(client: pg.ClientBase, cfg: Config): Promise<Map<string, number> | null> {
  if (!(await client.query(`SELECT to_regclass('partwise.step_log') IS NOT NULL AS ok`)).rows[0].ok) return null;
  const r = await client.query<{ totals: Record<string, number> | null }>(
    `SELECT l.detail->'totals' AS totals FROM partwise.step_log l JOIN partwise.migration m ON m.id = l.migration_id
      WHERE m.source_schema = $1 AND m.source_table = $2 AND l.step = 'migrate' AND l.detail ? 'totals'
        AND l.id > COALESCE((SELECT max(c.id) FROM partwise.step_log c WHERE c.migration_id = m.id AND c.step = 'create'), 0)
      ORDER BY l.id DESC LIMIT 1`,
    [cfg.schema, cfg.table],
  );
  const t = r.rows[0]?.totals;
  return t ? new Map(Object.entries(t).map(([k, n]) => [k, Number(n)])) : null;
}

export interface JournalCopy {
  programs: Array<{ program: string; label: string | null; copied: number; total: number; state: ProgramState }>;
  paused: boolean;
  batchSize: number;
  maxRate: number | null;
  backlog: number;
  /** a migrate is running now (in any process) */
  copying: boolean;
  mode: 'one' | 'all' | 'gradual';
}

/** The copy's state from the journal only: reads, never writes. null when nothing was journaled. */
export async function readCopyProgress(client: pg.ClientBase, cfg: Config, base: CopyBase): Promise<JournalCopy | null> {
  const state = await readMigrationState(client, cfg, { backlog: true });
  if (!state.controls && !state.copy) return null;
  const r = await client.query<{ program: string; copied: string }>(
    `SELECT p.program, p.copied FROM partwise.copy_progress p JOIN partwise.migration m ON m.id = p.migration_id WHERE m.source_schema = $1 AND m.source_table = $2`,
    [cfg.schema, cfg.table],
  );
  const copiedByProgram = new Map(r.rows.map((x) => [x.program, Number(x.copied)]));
  const markerFree = restMarkerFree(base.programs.flatMap((p) => p.keys));
  const copying = state.copy?.running ?? false;
  const paused = state.controls?.paused ?? false;
  const programs = base.programs.map((p) => {
    const copied = Math.min(p.total, copiedOf(p, copiedByProgram, markerFree));
    const st: ProgramState = p.total > 0 && copied >= p.total ? 'done' : copied > 0 && copying ? (paused ? 'paused' : 'copying') : 'waiting';
    return { program: p.program, label: p.label, copied, total: p.total, state: st };
  });
  const mode = state.copy?.mode;
  return {
    programs, paused, batchSize: state.controls?.batchSize ?? 10_000, maxRate: state.controls?.maxRate ?? null, backlog: state.backlog ?? 0, copying,
    mode: mode === 'one' || mode === 'gradual' ? mode : 'all',
  };
}

/** One reading of the copied counts, to compute rates from the next one. */
export interface CopyReading {
  at: number;
  copied: Map<string, number>;
}

/**
 * Progress events from two readings: each program's rate from its own rows between them, the overall rate from all
 * rows; paused or not copying: 0 rows/s and no ETA.
 */
export function progressFromReadings(copy: JournalCopy, prev: CopyReading | null, now: number): { programs: ProgressEvent[]; overall: OverallEvent; reading: CopyReading } {
  const secs = prev ? (now - prev.at) / 1000 : 0;
  const moving = copy.copying && !copy.paused;
  const programs: ProgressEvent[] = copy.programs.map((p) => {
    const rate = moving && prev && secs > 0 ? Math.max(0, (p.copied - (prev.copied.get(p.program) ?? p.copied)) / secs) : 0;
    return { type: 'progress', program: p.program, label: p.label, copied: p.copied, total: p.total, rowsPerSec: rate, etaSec: eta(p.total - p.copied, rate), state: p.state };
  });
  const copied = programs.reduce((n, p) => n + p.copied, 0);
  const total = programs.reduce((n, p) => n + p.total, 0);
  const rate = programs.reduce((n, p) => n + p.rowsPerSec, 0);
  return {
    programs,
    overall: { type: 'progress.overall', copied, total, rowsPerSec: rate, etaSec: eta(total - copied, rate), backlog: copy.backlog, paused: copy.paused, batchSize: copy.batchSize, maxRate: copy.maxRate, mode: copy.mode },
    reading: { at: now, copied: new Map(copy.programs.map((p) => [p.program, p.copied])) },
  };
}
