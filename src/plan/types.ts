/** A lock a statement takes, on what: shown to the user before anything runs. */
export interface LockInfo {
  mode: 'ACCESS EXCLUSIVE' | 'SHARE ROW EXCLUSIVE' | 'SHARE UPDATE EXCLUSIVE' | 'SHARE' | 'ROW EXCLUSIVE' | 'ACCESS SHARE';
  /** schema-qualified, quoted relation name */
  on: string;
  why: string;
  /** a relation its own statement locks, not LOCK TABLE (which refuses a materialized view and, on a view, locks the tables it reads) */
  byStatementOnly?: true;
}

export type StepPhase = 'create' | 'migrate' | 'swap' | 'rollback' | 'finish' | 'maintain';

export interface Step {
  /** stable id, recorded in the journal, e.g. `create-table` or `create-partition:<key>` */
  id: string;
  phase: StepPhase;
  title: string;
  statements: string[];
  locks: LockInfo[];
  /** whether all statements run in one transaction (false for CONCURRENTLY) */
  transactional: boolean;
  /** what undoes the step */
  reverse: string[];
  /** true when the catalog shows the step's result is already there (re-runs skip it) */
  done: boolean;
  /** plain-words notes shown with the step (warnings about what changes for the application) */
  notes: string[];
}

export interface Plan {
  steps: Step[];
  warnings: string[];
}
