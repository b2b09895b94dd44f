import type { MigrationState } from '../../state/migrationState.js';
import { defineStep } from '../types.js';

function nothingToControl(s: MigrationState, what: string): string | null {
  if (s.phase === 'nothing' || (s.phase === 'rolled-back' && !s.swappedBack)) return `nothing to ${what}: no copy exists (${s.summary})`;
  if (s.phase === 'swapped' || s.phase === 'finished') return `nothing to ${what}: the swap happened`;
  return null;
}

/** partwise pause / resume: the live control, through the journal; the running copy reads it between batches. */
export const pause = defineStep({
  id: 'pause', command: 'pause', title: 'Pause',
  summary: 'pause a running migration, from any terminal',
  about: 'Sets the pause control in the journal; the running migrate pauses after its current batch and keeps replaying the change log.',
  changes: false, confirm: 'none', flags: [],
  options: () => ({}),
  refuse: (s) => nothingToControl(s, 'pause'),
  run: async (ctx) => (await import('../../steps/pauseResume.js')).runPauseResume(ctx, true),
});

export const resume = defineStep({
  id: 'resume', command: 'resume', title: 'Resume',
  summary: 'resume a paused migration, from any terminal',
  about: 'Clears the pause control in the journal; the running migrate continues with its next batch.',
  changes: false, confirm: 'none', flags: [],
  options: () => ({}),
  refuse: (s) => nothingToControl(s, 'resume'),
  run: async (ctx) => (await import('../../steps/pauseResume.js')).runPauseResume(ctx, false),
});
