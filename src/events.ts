import type { Blocker } from './catalog/types.js';
import type { LockInfo } from './plan/types.js';
import type { PartitionSizes } from './monitor/partitionSizes.js';

/** A failure said for people: what failed, the server's words, what was left unchanged, what to do. */
export interface PersonError {
  message: string;
  statement?: string;
  serverMessage?: string;
  serverHint?: string;
  serverDetail?: string;
  code?: string;
  unchanged?: string;
  todo?: string;
}

export type ProgramState = 'waiting' | 'copying' | 'paused' | 'verifying' | 'done' | 'failed';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface CheckItem {
  id: string;
  status: CheckStatus;
  title: string;
  reason: string;
  todo?: string;
  details?: string[];
}

/** Everything the engine tells its two faces (Ink screens, headless printer). */
export type EngineEvent =
  | { type: 'info'; message: string }
  /** a reviewable SQL script (plan): printed as is on stdout */
  | { type: 'script'; sql: string }
  | { type: 'warn'; message: string }
  | { type: 'connected'; target: string; version: string; embedded: boolean }
  | { type: 'check'; item: CheckItem }
  | { type: 'step.start'; step: string; title: string; statements: string[]; locks: LockInfo[] }
  | { type: 'step.skip'; step: string; title: string; reason: string }
  | { type: 'step.retry'; step: string; attempt: number; attempts: number; delayMs: number; blockers: Blocker[]; message: string }
  | { type: 'step.done'; step: string; title: string; ms: number }
  | { type: 'step.fail'; step: string; title: string; error: PersonError }
  | { type: 'verify'; item: CheckItem }
  /** one program's copy (migrate): emitted after every committed batch and on state changes */
  | { type: 'progress'; program: string; label: string | null; copied: number; total: number; rowsPerSec: number; etaSec: number | null; state: ProgramState }
  /** the whole copy: totals, change-capture backlog and the live controls */
  | { type: 'progress.overall'; copied: number; total: number; rowsPerSec: number; etaSec: number | null; backlog: number; paused: boolean; batchSize: number; maxRate: number | null; mode: 'one' | 'all' | 'gradual' }
  /** archive and restore: rows and bytes of the file moved so far (`what`: write, verify, check, load); totals when known */
  | { type: 'transfer'; step: 'archive' | 'restore'; what: string; rows: number; totalRows: number | null; bytes: number; totalBytes: number | null }
  /** one child's back-fill of the key column partwise adds (migrate; src/move/childBackfill.ts) */
  | { type: 'child.progress'; child: string; filled: number; blocksDone: number; blocks: number; rowsPerSec: number; state: 'filling' | 'indexing' | 'done' }
  /** the partition size table (monitor): one catalog read */
  | { type: 'partition.sizes'; sizes: PartitionSizes }
  | { type: 'result'; command: string; ok: boolean; exitCode: number; summary: string; next?: string; data?: unknown };

export type Emit = (e: EngineEvent) => void;

/** interrupted: stopped on a signal at a safe point (130 = 128 + SIGINT, as shells report it) */
export const EXIT = { ok: 0, failed: 1, usage: 2, checksFailed: 3, interrupted: 130 } as const;
