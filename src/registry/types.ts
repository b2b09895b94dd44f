/**
 * A step of partwise as one declaration: the CLI command, the checklist line, its keys, flags, confirmation, SQL
 * preview, refusal and run all come from it (src/registry/steps/, one file per step). Engine code: it imports
 * nothing from cli/ or screens/; the screens map a step's id to their component.
 */
import type pg from 'pg';
import type { Config } from '../config/config.js';
import type { PreviewContext, ScriptPart } from '../plan/script.js';

export type { PreviewContext } from '../plan/script.js';
import type { MigrationState, StateStepId } from '../state/migrationState.js';
import type { StepContext, StepResult } from '../steps/context.js';

/** Flags as parsed from the command line (or set by a screen): text, or true for a switch. */
export type FlagValues = Record<string, string | boolean | undefined>;

export interface FlagSpec {
  name: string;
  type: 'string' | 'boolean';
  short?: string;
  /** the value's placeholder in help, e.g. N or one|all|gradual */
  value?: string;
  help: string;
}

export type Confirmation = 'none' | 'y' | 'table-name';

/** A key of the step's screen: the footer shows `label`, the help overlay `help`; the screen acts on `action`. */
export interface KeyBinding {
  /** what is typed ('enter' for the return key) */
  keys: string[];
  label: string;
  help: string;
  action: string;
}

/** One part of a step's SQL as it will run: its statements as sent, the locks they take, notes for what they cannot show. */
export type PreviewPart = ScriptPart;


export interface StepDefinition<O = unknown> {
  id: string;
  command: string;
  /** the checklist key ('1'-'7', 'R'); none for commands that are not on the checklist */
  key?: string;
  title: string;
  /** a shorter title for the checklist header on narrow terminals (default: the title) */
  short?: string;
  /** one line for partwise --help */
  summary: string;
  /** what it does and what it locks: the screen's paragraph and partwise <command> --help */
  about: string;
  /** changes the database: needs --yes without a terminal, and a confirmation in the app */
  changes: boolean;
  /** stops at a safe point on the first signal (the current batch commits) */
  stopsSafely?: boolean;
  /** waits for locks while holding the application's writes: a shorter lock_timeout unless --lock-timeout is given */
  shortLockWait?: boolean;
  /** the migration state this step's line shows (default: its id) */
  stateOf?: StateStepId;
  flags: FlagSpec[];
  /** the flags as the step's options; throws UsageError */
  options(flags: FlagValues): O;
  confirm: Confirmation;
  /** what the confirmation asks */
  question?(cfg: Config, options: O, state: MigrationState): string;
  /** the state's answer when the step cannot run now (it exits 3 and changes nothing); null when it may run */
  refuse?(state: MigrationState, options: O): string | null;
  /**
   * the SQL the step runs, from a fresh catalog read, built by the same functions its run uses (`options` when the
   * flags are known: a screen shows it before they are). Call it through previewOf (src/registry/preview.ts).
   */
  preview?(p: PreviewContext, state: MigrationState, options?: O): Promise<PreviewPart[]>;
  run(ctx: StepContext, options: O): Promise<StepResult>;
  /** the keys of its screen, enter first */
  keys?: KeyBinding[];
}

/** Type-checks one step's declaration with its own options type. */
export function defineStep<O>(d: StepDefinition<O>): StepDefinition<O> {
  return d;
}
