import { EXIT } from '../events.js';
import { CHECKLIST, ROLLBACK_STEP } from '../registry/index.js';
import { readMigrationState } from '../state/readState.js';
import type { StateStepId } from '../state/migrationState.js';
import { childLines } from '../state/children.js';
import type { StepContext, StepResult } from './context.js';

/** Where the migration stands (src/state/migrationState.ts): the phase, the copy, each step, the next step and why. */
export async function runStatus(ctx: StepContext): Promise<StepResult> {
  const s = await readMigrationState(ctx.client, ctx.cfg, { backlog: true });
  const lines = [...CHECKLIST, ROLLBACK_STEP].map((d) => {
    const v = s.steps[(d.stateOf ?? d.id) as StateStepId];
    return `  ${d.key} ${d.title.padEnd(14)} ${v.state.padEnd(12)}${v.note ? ` ${v.note}` : ''}`;
  });
  for (const l of lines) ctx.emit({ type: 'info', message: l });
  if (s.steps.finish.state !== 'pending') ctx.emit({ type: 'info', message: `    finish         ${s.steps.finish.state}${s.steps.finish.note ? ` ${s.steps.finish.note}` : ''}` });
  if (s.controls && (s.phase === 'copying' || s.copy?.running))
    ctx.emit({ type: 'info', message: `  controls: ${s.controls.paused ? 'PAUSED' : 'running'}, batch ${s.controls.batchSize} rows, rate ${s.controls.maxRate === null ? 'no limit' : `${s.controls.maxRate} rows/s`}${s.backlog !== null ? `; capture backlog ${s.backlog}` : ''}` });
  // the tables carried for their foreign key without the key (src/state/children.ts)
  for (const l of childLines(s.children, []))
    ctx.emit({ type: 'info', message: `  referencing table ${l.child}: ${l.state}${l.ratio !== null && l.state === 'back-filling' ? ` ${Math.floor(l.ratio * 100)}% (${(l.filled ?? 0).toLocaleString('en-US')} rows set)` : ''}` });
  const next = s.next ? `next: ${s.next.command} (${s.next.why})` : 'nothing left to do';
  return { ok: true, exitCode: EXIT.ok, summary: `${s.table}: ${s.summary}. ${next}`, data: s };
}
