/**
 * partwise pause / resume: set the live control through the journal, from any terminal. The running copy reads it
 * between batches (pausing keeps replaying the change log, so the backlog does not grow). The screens change the
 * rate and batch size the same way: setControls(client, cfg, { maxRate }) / ({ batchSize }).
 */
import { EXIT } from '../events.js';
import { setControls } from '../move/control.js';
import { Journal } from '../journal/journal.js';
import { leaseHolder } from '../move/runLease.js';
import type { StepContext, StepResult } from './context.js';

export async function runPauseResume(ctx: StepContext, paused: boolean): Promise<StepResult> {
  const c = await setControls(ctx.client, ctx.cfg, { paused });
  const journal = await Journal.find(ctx.client, ctx.cfg);
  const running = journal ? await leaseHolder(ctx.client, journal.migrationId) : null;
  const who = running ? `the running migrate (${running.holder}, server pid ${running.backendPid}) ${paused ? 'pauses after its current batch' : 'continues'}` : 'no migrate is running now (partwise migrate always starts unpaused)';
  return { ok: true, exitCode: EXIT.ok, summary: `${paused ? 'paused' : 'resumed'}: ${who} (batch size ${c.batchSize}, rate limit ${c.maxRate ?? 'none'} rows/s)`, data: c };
}
