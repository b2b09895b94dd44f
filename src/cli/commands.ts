import type { Flags } from './args.js';
import type { Command } from './args.js';
import { intFlag } from './args.js';
import { retryFor } from './options.js';
import type { StepContext, StepResult } from '../steps/context.js';
import { runCheck } from '../steps/check.js';
import { runCreate } from '../steps/create.js';
import { runPlan } from '../steps/plan.js';
import { runStatus } from '../steps/status.js';
import { runVerify } from '../steps/verify.js';
import { runMaintain } from '../steps/maintain.js';
import { runMonitor } from '../steps/monitor.js';
import { runTestInsert } from '../steps/testInsert.js';
import { migrateOptionsFromFlags, runMigrate } from '../steps/migrate.js';
import { runPauseResume } from '../steps/pauseResume.js';
import { runVerifyData } from '../steps/verifyData.js';
import { runSwap } from '../steps/swap.js';
import { runRollback } from '../steps/rollback.js';
import { runFinish } from '../steps/finish.js';
import { EXIT } from '../events.js';

/** Dispatches a headless command to its step. */
export async function runCommand(command: Command, given: StepContext, flags: Flags): Promise<StepResult> {
  const ctx = { ...given, retry: retryFor(command, given.cfg, given.retry) };
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
      return flags.data ? runVerifyData(ctx) : runVerify(ctx);
    case 'migrate': {
      const opts = migrateOptionsFromFlags(flags);
      if (typeof opts === 'string') return { ok: false, exitCode: EXIT.usage, summary: `${opts}; nothing was changed` };
      return runMigrate(ctx, opts);
    }
    case 'pause':
    case 'resume':
      return runPauseResume(ctx, command === 'pause');
    case 'status':
      return runStatus(ctx);
    case 'test-insert': {
      let rows: number;
      try {
        rows = intFlag(flags, 'rows', 1, 100_000) ?? 100;
      } catch (e) {
        return { ok: false, exitCode: EXIT.usage, summary: `${(e as Error).message}; nothing was changed` };
      }
      return runTestInsert(ctx, { program: flags.program, rows, keep: Boolean(flags.keep) });
    }
    case 'maintain':
      return runMaintain(ctx);
    case 'swap':
      return runSwap(ctx);
    case 'rollback':
      return runRollback(ctx);
    case 'finish':
      return runFinish(ctx, { dropOld: Boolean(flags['drop-old']) });
    case 'monitor':
      return runMonitor(ctx, { print: !flags.json });
    default:
      return { ok: false, exitCode: EXIT.usage, summary: `${command} is not available yet in this version` };
  }
}
