/**
 * migrate --mode one (a single program, default the largest) and --mode gradual (program by program in the lookup
 * table's creation order, each verified before the next; keys without a lookup row last).
 */
import { EXIT } from '../../events.js';
import { keyScope } from '../../move/copy.js';
import { findProgram, REST_PROGRAM, type ProgramEntry } from '../../move/programs.js';
import type { StepResult } from '../context.js';
import { copyJobs } from './copyLoop.js';
import type { CopyRun } from './copyRun.js';

/** The program --mode one copies: --program, else the largest with a lookup row; a StepResult when there is none. */
export function pickOne(run: CopyRun, program: string | undefined): ProgramEntry | StepResult {
  const pick = program !== undefined ? findProgram(run.programs, program) : [...run.programs].filter((p) => p.program !== REST_PROGRAM).sort((a, b) => b.total - a.total)[0];
  if (typeof pick === 'string') return { ok: false, exitCode: EXIT.usage, summary: `${pick}; nothing was copied` };
  if (!pick) return { ok: false, exitCode: EXIT.failed, summary: `${run.ctx.cfg.lookup} has no rows: no program to copy` };
  return pick;
}

/** Copies the chosen programs one after the other; `verify`: each checked against the source before the next. */
export async function copyProgramByProgram(run: CopyRun, chosen: ProgramEntry[], verify: boolean): Promise<StepResult | null> {
  const done = await run.doneScopes();
  for (const p of run.programs) if (!chosen.includes(p)) p.state = 'waiting';
  for (const p of chosen) {
    if (!done.has('all')) {
      // with several workers the program's blocks are cut into ranges (parts), each its own checkpoint
      if (p.program === REST_PROGRAM) await copyJobs(run, [{ scope: { id: 'rest', kind: 'rest' }, active: [p], exclude: run.lookupKeys }]);
      else await copyJobs(run, [{ scope: keyScope(p.program), active: [p], exclude: [] }]);
    }
    if (verify && !(await run.verifyProgram(p))) {
      run.report(p, 'failed');
      return { ok: false, exitCode: EXIT.checksFailed, summary: `${p.label ?? p.program}: the copy differs from the source after replay (see above); the next programs were not started. Run partwise verify --data for details.` };
    }
    await run.drain(20);
    await run.finalCounts([p]);
    run.report(p, 'done');
    await run.overall();
  }
  await run.drain(100);
  return null;
}

/** --mode one */
export async function copyOneMode(run: CopyRun, program: string | undefined): Promise<StepResult | null> {
  const pick = pickOne(run, program);
  if ('exitCode' in pick) return pick;
  return copyProgramByProgram(run, [pick], false);
}

/** --mode gradual */
export function copyGradualMode(run: CopyRun): Promise<StepResult | null> {
  return copyProgramByProgram(run, run.programs, true);
}
