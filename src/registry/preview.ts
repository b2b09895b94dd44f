import type pg from 'pg';
import type { Config } from '../config/config.js';
import type { RetryPolicy } from '../exec/retry.js';
import type { MigrationState } from '../state/migrationState.js';
import { partsScript, type ScriptPart } from '../plan/script.js';
import { retryFor } from './dispatch.js';
import type { AnyStep } from './index.js';

export { notePart } from '../plan/script.js';

/** A step's SQL as a reviewable script: per part a comment heading with its locks and notes, then the statements. */
export function previewScript(parts: ScriptPart[]): string {
  return partsScript(parts);
}

/**
 * The step's preview as it would run now: with the retry policy the step gets (a shorter lock_timeout for the swap and
 * the rollback unless --lock-timeout was given, src/registry/dispatch.ts), so the SET LOCAL lock_timeout shown is the
 * one sent.
 */
export function previewOf(step: AnyStep, client: pg.ClientBase, cfg: Config, retry: RetryPolicy, state: MigrationState, options?: unknown): Promise<ScriptPart[]> {
  if (!step.preview) return Promise.resolve([]);
  return step.preview({ client, cfg, retry: retryFor(step, cfg, retry) }, state, options);
}
