import type { FlagValues } from '../registry/types.js';
import type { CheckItem, EngineEvent, PersonError } from '../events.js';
import type { StepResult } from '../steps/context.js';
import type { ChildProgressEvent } from '../state/children.js';

export type ProgressEvent = Extract<EngineEvent, { type: 'progress' }>;
export type OverallEvent = Extract<EngineEvent, { type: 'progress.overall' }>;
export type RetryEvent = Extract<EngineEvent, { type: 'step.retry' }>;
export type TransferEvent = Extract<EngineEvent, { type: 'transfer' }>;

export type RunStatus = 'running' | 'done' | 'failed';

/** One run of a step's action as the screens show it: built from the engine's events, then its result. */
export interface StepRun {
  command: string;
  flags: FlagValues;
  status: RunStatus;
  startedAt: number;
  finishedAt: number | null;
  /** the events worth listing (step.start/done/skip/fail, info, warn), newest last, capped */
  log: EngineEvent[];
  /** check and verify items, in arrival order */
  checks: CheckItem[];
  /** the latest progress of each program, in the order first seen */
  programs: ProgressEvent[];
  overall: OverallEvent | null;
  /** archive / restore: the rows and bytes of the file moved so far, while it is the latest news */
  transfer: TransferEvent | null;
  /** the latest back-fill progress of each carried child (src/move/childBackfill.ts) */
  children: ChildProgressEvent[];
  /** the last lock retry while it is still the latest news (cleared by the next step.done / step.start) */
  retry: RetryEvent | null;
  failure: PersonError | null;
  result: StepResult | null;
  /** quit or a signal asked the step to stop at its next safe point */
  stopping: boolean;
}

const LOG_CAP = 500;

export function newRun(command: string, flags: FlagValues, now: number): StepRun {
  return {
    command, flags, status: 'running', startedAt: now, finishedAt: null, log: [], checks: [], programs: [], overall: null, transfer: null, children: [],
    retry: null, failure: null, result: null, stopping: false,
  };
}

/** Applies one engine event to a run in place (the runner copies it when it flushes to React). */
export function applyEvent(run: StepRun, e: EngineEvent): void {
  switch (e.type) {
    case 'check':
    case 'verify':
      run.checks.push(e.item);
      return;
    case 'progress': {
      const i = run.programs.findIndex((p) => p.program === e.program);
      if (i >= 0) run.programs[i] = e;
      else run.programs.push(e);
      return;
    }
    case 'progress.overall':
      run.overall = e;
      return;
    case 'transfer':
      run.transfer = e;
      return;
    case 'child.progress': {
      const i = run.children.findIndex((c) => c.child === e.child);
      if (i >= 0) run.children[i] = e;
      else run.children.push(e);
      return;
    }
    case 'step.retry':
      run.retry = e;
      run.log.push(e);
      break;
    case 'step.fail':
      run.failure = e.error;
      run.log.push(e);
      break;
    case 'step.start':
    case 'step.done':
      run.retry = null;
      run.transfer = null;
      run.log.push(e);
      break;
    case 'partition.sizes':
    case 'connected':
    case 'result':
      return;
    default:
      run.log.push(e);
  }
  if (run.log.length > LOG_CAP) run.log.splice(0, run.log.length - LOG_CAP);
}

/** The run's end: the result, or the exception the step threw, in words for people. */
export function finishRun(run: StepRun, result: StepResult | null, thrown: PersonError | null, now: number): void {
  run.finishedAt = now;
  run.result = result;
  run.retry = null;
  if (thrown) {
    run.failure = thrown;
    run.status = 'failed';
    return;
  }
  if (result && result.ok) {
    run.status = 'done';
    return;
  }
  run.status = 'failed';
  const fromData = (result?.data as { error?: PersonError } | undefined)?.error;
  if (!run.failure) run.failure = fromData ?? { message: result?.summary ?? 'the step failed' };
}

export function copyRun(run: StepRun): StepRun {
  return { ...run, log: [...run.log], checks: [...run.checks], programs: [...run.programs], children: [...run.children] };
}
