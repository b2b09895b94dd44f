import type { OverallEvent, ProgressEvent, StepRun } from '../hooks/runState.js';
import type { Health } from '../hooks/useMigrationState.js';
import type { AnyStep, ChecklistId } from '../registry/index.js';
import type { FlagValues, KeyBinding } from '../registry/types.js';
import type { MigrationState, StepView } from '../state/migrationState.js';
import type { AppSession } from './session.js';
import { wrapLines } from '../text/wrap.js';
import { runStatusRows } from './StepFrame.js';

/** An action a screen asks the app to run: the app asks the step's refusal and confirmation, then runs it. */
export interface ActionRequest {
  command: string;
  flags?: FlagValues;
  /** which checklist step's run it is (finish belongs to swap); default the current screen's */
  step?: ChecklistId;
  /** what the user types to confirm, when not the table name (archive: the partition's name), and what it is in words */
  confirmText?: { typed: string; what: string };
  /** nothing to run: this is said instead (e.g. the selected row cannot be archived) */
  notice?: string;
}

export interface ScreenProps {
  session: AppSession;
  /** the step's registry declaration */
  info: AnyStep;
  run: StepRun | undefined;
  /** this step's state in the migration (engine: src/state/migrationState.ts) */
  view: StepView;
  /** where the migration stands */
  migration: MigrationState;
  health: Health;
  width: number;
  height: number;
  /** false while an overlay, a prompt or the SQL panel has the keyboard */
  isActive: boolean;
  /** a step is running (this one or another) */
  busy: boolean;
  request(action: ActionRequest): void;
  /**
   * Whether keys are this screen's now (false for a key typed ahead of a screen change or an overlay, which still
   * reaches this screen's handler before the redraw); request() already checks it, keys that act on their own must.
   */
  keysReach?: () => boolean;
  /** the copy's progress from the journal (a copy another terminal runs, or one stopped earlier) */
  journalProgress?: { programs: ProgressEvent[]; overall: OverallEvent | null };
}

const rowsOf = (text: string | null, width: number) => (text ? wrapLines(text, width).length : 0);

/** Screens shorter than this keep their rows for the run's output: the paragraph is in the help and the SQL pane too. */
const ROOMY = 24;

/**
 * Whether the step's paragraph (what it does, what it locks) is shown: always on a roomy screen and before a step
 * ran; on a short one (80x24) the run's output and the monitor's table need the rows more.
 */
export function aboutShown(p: Pick<ScreenProps, 'height' | 'info' | 'run'>): boolean {
  return p.height >= ROOMY || (!p.run && p.info.id !== 'monitor' && p.info.id !== 'migrate');
}

/**
 * Rows left for a screen's list under the title, the state's note and next, the paragraph and the run's status (its
 * result or error as wrapped at this width), less `extra` rows of the screen's own above the list.
 */
export function bodyHeight(p: Pick<ScreenProps, 'height' | 'width' | 'info' | 'view' | 'migration' | 'run'>, extra = 0): number {
  const next = p.run?.status === 'running' ? null : nextHere(p);
  const about = aboutShown(p) ? rowsOf(p.info.about, p.width) : 0;
  return Math.max(3, p.height - 1 - about - rowsOf(p.view.note, p.width) - rowsOf(next ? `→ ${next}` : null, p.width) - runStatusRows(p.run, p.width) - extra);
}

/** Why this step is the migration's next one, when it is (with the key that does it). */
export function nextHere(p: Pick<ScreenProps, 'info' | 'migration'>): string | null {
  const n = p.migration.next;
  if (!n) return null;
  const mine = n.step === p.info.id || (n.step === 'finish' && p.info.id === 'swap') || (n.step === 'maintain' && p.info.id === 'monitor');
  if (!mine) return null;
  const how = n.command === 'verify --data' ? ' (d)' : '';
  return `next here${how}: ${n.why}`;
}

/** The registry's action for a key typed on a step's screen ('enter' for the return key), if it has one. */
export function actionFor(info: AnyStep, input: string, key: { return?: boolean }): string | null {
  const typed = key.return ? 'enter' : input;
  return info.keys?.find((k: KeyBinding) => k.keys.includes(typed))?.action ?? null;
}
