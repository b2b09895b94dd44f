import type { Command, Flags } from '../cli/args.js';
import type { OverallEvent, ProgressEvent, StepRun } from '../hooks/runState.js';
import type { JournalView } from '../hooks/useJournalState.js';
import type { AppSession } from './session.js';
import type { StepInfo } from './steps.js';
import type { StepState } from './stepState.js';

/** An action a screen asks the app to run: the app confirms it (if the step needs it), then runs it. */
export interface ActionRequest {
  command: Command;
  flags?: Flags;
  /** what the confirmation asks; the kind of confirmation comes from the step (y or the table name) */
  question: string;
  confirm: 'none' | 'y' | 'table-name';
  /** which step's state the run belongs to (finish belongs to swap) */
  step?: StepInfo['id'];
}

export interface ScreenProps {
  session: AppSession;
  info: StepInfo;
  run: StepRun | undefined;
  state: StepState;
  journal: JournalView;
  width: number;
  height: number;
  /** false while an overlay, a prompt or the SQL panel has the keyboard */
  isActive: boolean;
  /** a step is running (this one or another) */
  busy: boolean;
  request(action: ActionRequest): void;
  /** watch: the copy's progress read from the journal (another terminal runs it) */
  watched?: { programs: ProgressEvent[]; overall: OverallEvent | null };
}

/** Rows left for a screen's list under the title, the paragraph and the run status. */
export function bodyHeight(height: number, width: number, about: string, statusRows: number): number {
  const aboutRows = Math.ceil(about.length / Math.max(20, width - 2));
  return Math.max(3, height - 1 - aboutRows - statusRows);
}
