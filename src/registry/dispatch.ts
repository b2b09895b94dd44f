/**
 * Runs a step by its declaration: its flags become its options (a usage error exits 2), the migration's state is read
 * and the step's refusal asked (exit 3, nothing changed), then the step runs. A record the run leaves `running` on its
 * own session (an unexpected throw) is closed as failed, so the state never shows a finished run as still running.
 */
import { EXIT } from '../events.js';
import type { RetryPolicy } from '../exec/runStep.js';
import type { Config } from '../config/config.js';
import { readMigrationState } from '../state/readState.js';
import type { StepContext, StepResult } from '../steps/context.js';
import { UsageError } from './flags.js';
import type { AnyStep } from './index.js';
import type { FlagValues } from './types.js';

/** The swap and the rollback hold the application's writes while they wait for their locks: a shorter default. */
export const SHORT_LOCK_TIMEOUT_MS = 1000;

/** The retry policy for one step: a shorter lock_timeout for steps that hold writes while waiting, unless --lock-timeout was given. */
export function retryFor(step: AnyStep, cfg: Config, retry: RetryPolicy): RetryPolicy {
  return step.shortLockWait && cfg.lockTimeoutMs === undefined ? { ...retry, lockTimeoutMs: SHORT_LOCK_TIMEOUT_MS } : retry;
}

/** The step's options from its flags, or the usage problem. */
export function optionsOf(step: AnyStep, flags: FlagValues): { options: unknown } | { usage: string } {
  try {
    return { options: step.options(flags) };
  } catch (e) {
    if (e instanceof UsageError) return { usage: e.message };
    throw e;
  }
}

export async function runRegistered(step: AnyStep, given: StepContext, flags: FlagValues): Promise<StepResult> {
  const ctx = { ...given, retry: retryFor(step, given.cfg, given.retry) };
  const parsed = optionsOf(step, flags);
  if ('usage' in parsed) return { ok: false, exitCode: EXIT.usage, summary: `${parsed.usage}; nothing was changed` };
  if (step.refuse) {
    const state = await readMigrationState(ctx.client, ctx.cfg);
    const why = step.refuse(state, parsed.options);
    if (why) {
      return {
        ok: false, exitCode: EXIT.checksFailed, summary: `${step.command} refused: ${why}; nothing was changed`,
        data: { refused: true, phase: state.phase, next: state.next },
      };
    }
  }
  try {
    return await step.run(ctx, parsed.options);
  } catch (e) {
    await closeLeftRunning(ctx, (e as Error).message);
    throw e;
  }
}

/** Marks the records this session left running as failed (the step threw before it could journal its end). */
async function closeLeftRunning(ctx: StepContext, error: string): Promise<void> {
  await ctx.client
    .query(
      `UPDATE partwise.step_log SET status = 'failed', finished_at = now(), error = $1
        WHERE status = 'running' AND pid = pg_backend_pid()
          AND migration_id IN (SELECT id FROM partwise.migration WHERE source_schema = $2 AND source_table = $3)`,
      [error, ctx.cfg.schema, ctx.cfg.table],
    )
    .catch(() => undefined);
}
