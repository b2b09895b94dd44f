import type { StepState } from '../state/migrationState.js';
import type { Tone } from './Theme.js';

export const STATE_SIGN: Record<StepState, string> = {
  pending: '·', running: '>', done: '✔', failed: '✘', skipped: '-', interrupted: '!', stale: '~',
};

export const STATE_TONE: Record<StepState, Tone> = {
  pending: 'dim', running: 'running', done: 'ok', failed: 'fail', skipped: 'dim', interrupted: 'warn', stale: 'warn',
};
