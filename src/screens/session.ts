import type pg from 'pg';
import type { FlagValues } from '../registry/types.js';
import type { StepContext, StepResult } from '../steps/context.js';

/** What the app works with: the engine's session for steps, a second one for its own reads, and the server it is on. */
export interface AppSession {
  /** the step context without emit/signal (the runner hook adds them per run); its client runs steps only */
  engine: Omit<StepContext, 'emit' | 'signal'>;
  /**
   * A second session for the journal, controls, SQL previews and the monitor: a step's transaction on the engine
   * session must never receive the app's own queries in the middle.
   */
  view: pg.Client;
  server: { target: string; version: string; embedded: boolean };
  /** `partwise watch`: the same screens with no action */
  readOnly: boolean;
  /** runs a registered step by its command (src/cli/commands.ts) */
  runCommand: (command: string, ctx: StepContext, flags: FlagValues) => Promise<StepResult>;
  /**
   * The step running now, outside React: a signal (SIGHUP when the SSH link drops, SIGTERM) must be able to stop it
   * safely even when the terminal, and with it the Ink tree, is already gone.
   */
  active: { current: ActiveRun | null };
}

export interface ActiveRun {
  /** asks the step to stop at its next safe point (migrate: after the current batch commits and is journaled) */
  stop(): void;
  done: Promise<void>;
}
