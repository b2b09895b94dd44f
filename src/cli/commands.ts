import type { Flags } from './args.js';
import type { Command } from './args.js';
import type { StepContext, StepResult } from '../steps/context.js';
import { runCheck } from '../steps/check.js';
import { runCreate } from '../steps/create.js';
import { runPlan } from '../steps/plan.js';
import { runStatus } from '../steps/status.js';
import { runVerify } from '../steps/verify.js';
import { EXIT } from '../events.js';

/** Dispatches a headless command to its step. */
export async function runCommand(command: Command, ctx: StepContext, flags: Flags): Promise<StepResult> {
  switch (command) {
    case 'check':
      return runCheck(ctx);
    case 'plan': {
      const r = await runPlan(ctx);
      if (!flags.json) ctx.emit({ type: 'script', sql: (r.data as { script: string }).script });
      return r;
    }
    case 'create':
      return runCreate(ctx);
    case 'verify':
      return runVerify(ctx);
    case 'status':
      return runStatus(ctx);
    default:
      return { ok: false, exitCode: EXIT.usage, summary: `${command} is not available yet in this version` };
  }
}
