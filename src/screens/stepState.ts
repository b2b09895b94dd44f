import { PHASES } from '../journal/journal.js';
import type { JournalStep } from '../hooks/useJournalState.js';
import type { StepRun } from '../hooks/runState.js';
import { STEPS, type StepId, type StepInfo } from './steps.js';

export type StepState = 'pending' | 'running' | 'done' | 'failed' | 'skipped' | 'interrupted';

/** How far each checklist step takes the journal's phase (monitor: available once swapped). */
const PHASE_OF: Partial<Record<StepId, (typeof PHASES)[number]>> = {
  check: 'check', create: 'create', verify: 'verify', 'test-insert': 'test-insert', migrate: 'migrate', swap: 'swap', monitor: 'swap',
};

/**
 * A step's state: running here, else this session's last run, else the journal's latest record (any terminal),
 * else implied by the journal's phase (a later phase means the step was passed: skipped), else pending.
 */
export function stepState(info: StepInfo, running: StepId | null, run: StepRun | undefined, journal: { phase: string | null; steps: JournalStep[] }): StepState {
  if (running === info.id) return 'running';
  if (run && run.status !== 'running') return run.status;
  const records = journal.steps.filter((s) => info.journalSteps.includes(s.step));
  const latest = records.sort((a, b) => (a.finishedAt ?? '9999').localeCompare(b.finishedAt ?? '9999')).pop();
  if (latest) return latest.status;
  const phaseIndex = PHASES.indexOf(journal.phase as (typeof PHASES)[number]);
  const mine = PHASE_OF[info.id];
  // passed without a record: the read-only prerequisites leave none, any other step was skipped
  if (mine && phaseIndex >= 0 && phaseIndex >= PHASES.indexOf(mine)) return info.id === 'check' ? 'done' : 'skipped';
  return 'pending';
}

/** The first step not yet done: where the checklist points. */
export function nextStep(states: Record<string, StepState>): StepId | null {
  return STEPS.find((s) => states[s.id] !== 'done' && states[s.id] !== 'skipped')?.id ?? null;
}

export const STATE_SIGN: Record<StepState, string> = {
  pending: '·', running: '>', done: '✔', failed: '✘', skipped: '-', interrupted: '!',
};
