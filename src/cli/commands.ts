import type { Flags } from './args.js';
import { EXIT } from '../events.js';
import { stepByCommand } from '../registry/index.js';
import { runRegistered } from '../registry/dispatch.js';
import type { StepContext, StepResult } from '../steps/context.js';

/** Runs a headless command (or a screen's action): the registry's step, through its options and refusal. */
export async function runCommand(command: string, ctx: StepContext, flags: Flags): Promise<StepResult> {
  const step = stepByCommand(command);
  if (!step) return { ok: false, exitCode: EXIT.usage, summary: `${command} is not a step partwise can run` };
  return runRegistered(step, ctx, flags);
}
