/**
 * Where the migration stands: the one place that turns the journal and the catalog into a phase, each step's state
 * and the next step with its reason. `status`, the app, `watch` and every step's refusal read this; nothing else
 * derives state. Pure: the facts are read by readMigrationFacts (src/state/facts.ts).
 *
 * The journal is read as a history. A `create` starts a new copy ("epoch"): records of earlier copies no longer hold
 * (stale). A rollback before the swap removes the copy: everything of its epoch is stale. A rollback after the swap
 * leaves the copy in sync but undoes the swap and clears the data verification. A record left `running` by a
 * process whose server session is gone was interrupted.
 */
import type { CatalogFacts, ControlFacts, JournalRecord, MigrationFacts } from './facts.js';
import type { ArchivedProgram } from '../archive/records.js';
import type { ChildView } from './children.js';

export type PhaseId = 'nothing' | 'created' | 'copying' | 'migrated' | 'swapped' | 'rolled-back' | 'finished';
export type StepState = 'pending' | 'running' | 'done' | 'failed' | 'interrupted' | 'skipped' | 'stale';

/** The steps that have a state (plan, status, pause and resume do not). */
export const STATE_STEPS = ['check', 'create', 'verify', 'test-insert', 'migrate', 'swap', 'monitor', 'rollback', 'finish', 'maintain'] as const;
export type StateStepId = (typeof STATE_STEPS)[number];

export interface StepView {
  state: StepState;
  /** why, in a few words, when the state alone does not say it (e.g. "interrupted at 41% (412,000 rows copied)") */
  note: string | null;
  /** the journal record the state comes from */
  record: Pick<JournalRecord, 'status' | 'startedAt' | 'finishedAt' | 'error' | 'pid'> | null;
}

export interface CopyView {
  /** rows the copy recorded, all runs of this copy */
  copied: number;
  /** rows to copy, as counted when migrate last started (null before it counted) */
  total: number | null;
  percent: number | null;
  complete: boolean;
  running: boolean;
  interrupted: boolean;
  failed: boolean;
  paused: boolean;
  mode: string | null;
}

export interface NextStep {
  step: StateStepId;
  /** the headless command that does it */
  command: string;
  why: string;
}

export interface Verification {
  state: 'none' | 'ok' | 'failed' | 'stale';
  at: string | null;
  /** what made the last one stale */
  clearedBy: 'migrate' | 'rollback' | null;
}

export interface MigrationState {
  /** schema.table */
  table: string;
  phase: PhaseId;
  /** the phase in words */
  summary: string;
  steps: Record<StateStepId, StepView>;
  next: NextStep | null;
  /** the copy of the current epoch (null before migrate first ran on it) */
  copy: CopyView | null;
  controls: ControlFacts | null;
  verification: Verification;
  /** rolled back after a swap: the copy is still there and in sync */
  swappedBack: boolean;
  /** a step another process (or this one) is running now */
  running: { step: string; pid: number; since: string } | null;
  backlog: number | null;
  catalog: CatalogFacts;
  /** programs archived (partwise archive): their new rows go to the default partition */
  archived: ArchivedProgram[];
  /** the tables carried for their foreign key without the key: column, back-fill, index, foreign key */
  children: ChildView[];
  /** the new and the old table's names */
  newTable: string;
  oldTable: string;
  readAt: string;
}

/** What this process knows and the journal cannot: the step it runs now, and the read-only check's last result. */
export interface LocalFacts {
  running?: StateStepId | null;
  check?: 'running' | 'done' | 'failed';
}

const n = (v: number) => v.toLocaleString('en-US');
/** a journal time as the terminal's local clock shows it */
const time = (iso: string) => new Date(iso).toTimeString().slice(0, 8);

/** A record's status as it stands now: `running` without a living process is `interrupted`. */
export function effectiveStatus(r: JournalRecord): JournalRecord['status'] {
  return r.status === 'running' && !r.alive ? 'interrupted' : r.status;
}

const recordOf = (r: JournalRecord | undefined): StepView['record'] =>
  r ? { status: effectiveStatus(r), startedAt: r.startedAt, finishedAt: r.finishedAt, error: r.error, pid: r.pid } : null;

export function migrationState(f: MigrationFacts, local: LocalFacts = {}): MigrationState {
  const recs = f.journal?.records ?? [];
  const cat = f.catalog;
  const t = f.table;
  const last = (steps: string[], after = 0, pred: (r: JournalRecord) => boolean = () => true) => {
    for (let i = recs.length - 1; i >= 0; i--) {
      const r = recs[i]!;
      if (r.id <= after) break;
      if (steps.includes(r.step) && pred(r)) return r;
    }
    return undefined;
  };
  const done = (r: JournalRecord) => r.status === 'done';
  const createRec = last(['create']);
  const epoch = createRec?.id ?? 0;
  const rollbackDone = last(['rollback'], 0, done);
  const rollbackBefore = last(['rollback'], 0, (r) => done(r) && !r.detail.swapped);
  // a rollback before the swap dropped this epoch's copy
  const epochClosed = rollbackBefore !== undefined && rollbackBefore.id > epoch && !cat.target;
  const inEpoch = (steps: string[], pred?: (r: JournalRecord) => boolean) => (epochClosed ? undefined : last(steps, epoch, pred));
  const significant = last(['create', 'migrate', 'verify-data', 'swap', 'rollback', 'finish']);
  const swapDone = last(['swap'], 0, done);
  const finishDone = last(['finish'], swapDone?.id ?? 0, done);

  const migRec = inEpoch(['migrate']);
  const complete = inEpoch(['migrate'], (r) => done(r) && r.detail.complete === true) !== undefined;
  const copyStarted = migRec !== undefined || (!epochClosed && (cat.forwardCapture || (f.journal?.scopes.length ?? 0) > 0));
  const swappedBack = rollbackDone !== undefined && rollbackDone.detail.swapped === true && significant === rollbackDone && cat.target;

  // the phase
  let phase: PhaseId;
  if (cat.source === 'p') phase = swapDone && cat.old && !finishDone ? 'swapped' : swapDone || finishDone ? 'finished' : 'nothing';
  else if (cat.source !== 'r') phase = 'nothing';
  else if (cat.target) phase = swappedBack ? 'rolled-back' : copyStarted ? (complete ? 'migrated' : 'copying') : 'created';
  else phase = rollbackDone && rollbackDone.id > epoch ? 'rolled-back' : 'nothing';

  // the copy
  const mStatus = migRec ? effectiveStatus(migRec) : null;
  const total = inEpoch(['migrate'], (r) => typeof r.detail.total === 'number')?.detail.total ?? null;
  const copied = f.journal?.copied ?? 0;
  const copy: CopyView | null = copyStarted
    ? {
        copied, total, complete,
        percent: complete ? 100 : total ? Math.min(100, Math.floor((copied * 100) / total)) : total === 0 ? 100 : null,
        running: mStatus === 'running', interrupted: mStatus === 'interrupted', failed: mStatus === 'failed',
        paused: mStatus === 'running' && Boolean(f.journal?.controls?.paused), mode: migRec?.detail.mode ?? null,
      }
    : null;
  const at = (c: CopyView) => (c.percent !== null ? `${c.percent}% (${n(c.copied)}${c.total !== null ? ` of ${n(c.total)}` : ''} rows copied)` : `${n(c.copied)} rows copied`);

  // the data verification of this copy
  const vd = inEpoch(['verify-data']);
  const vdBreaker = vd ? recs.find((r) => r.id > vd.id && ((r.step === 'migrate' && r.id > epoch) || (r.step === 'rollback' && done(r)))) : undefined;
  const verification: Verification = !vd
    ? { state: 'none', at: null, clearedBy: null }
    : vdBreaker
      ? { state: 'stale', at: vd.startedAt, clearedBy: vdBreaker.step === 'rollback' ? 'rollback' : 'migrate' }
      : { state: effectiveStatus(vd) === 'done' ? 'ok' : effectiveStatus(vd) === 'failed' ? 'failed' : 'none', at: vd.startedAt, clearedBy: null };

  const view = (state: StepState, r?: JournalRecord, note: string | null = null): StepView => ({ state, note, record: recordOf(r) });
  const live = (r: JournalRecord): StepState | null => {
    const s = effectiveStatus(r);
    return s === 'running' || s === 'interrupted' || s === 'failed' ? s : null;
  };
  const failNote = (r: JournalRecord) => (effectiveStatus(r) === 'failed' && r.error ? r.error : effectiveStatus(r) === 'interrupted' ? `stopped at ${time(r.startedAt)}` : null);
  const swapped = phase === 'swapped' || phase === 'finished';

  const steps = {} as Record<StateStepId, StepView>;
  // 1 check: read-only and journaled nowhere; passed once a copy was created
  steps.check = view(local.check ?? (createRec || cat.target || swapped ? 'done' : 'pending'));

  // 2 create
  if (!createRec) steps.create = view(cat.target || swapped ? 'done' : 'pending');
  else {
    const l = live(createRec);
    steps.create = l
      ? view(l, createRec, l === 'interrupted' ? 'stopped half-way: create again continues where it stopped' : failNote(createRec))
      : cat.target || swapped ? view('done', createRec) : view('stale', createRec, rollbackDone && rollbackDone.id > createRec.id ? `removed by the rollback at ${time(rollbackDone.startedAt)}` : `${t.newTable} no longer exists`);
  }

  // 3 verify: the structure before the copy, the data (verify --data) once it started
  {
    const copyPhase = copyStarted || swapped || swappedBack;
    const rec = inEpoch(copyPhase ? ['verify-data'] : ['verify', 'verify-data']);
    const older = last(['verify', 'verify-data']);
    if (!rec) {
      const structure = inEpoch(['verify']);
      steps.verify = structure && copyPhase
        ? view('pending', structure, 'the structure is verified; the data is compared once the copy is complete (verify --data)')
        : older ? view('stale', older, 'verified an earlier copy') : view('pending');
    } else {
      const l = live(rec);
      if (l) steps.verify = view(l, rec, failNote(rec));
      else if (rec.step === 'verify-data' && vdBreaker)
        steps.verify = view('stale', rec, vdBreaker.step === 'rollback'
          ? `the rollback at ${time(vdBreaker.startedAt)} cleared the verification`
          : `the copy changed since (migrate at ${time(vdBreaker.startedAt)})`);
      else steps.verify = view(effectiveStatus(rec) === 'done' ? 'done' : 'failed', rec, failNote(rec));
    }
  }

  // 4 test insert: optional; passed over once the copy started
  {
    const rec = inEpoch(['test-insert']);
    if (rec) steps['test-insert'] = view(live(rec) ?? (effectiveStatus(rec) === 'done' ? 'done' : 'failed'), rec, failNote(rec));
    else if (copyStarted || swapped) steps['test-insert'] = view('skipped');
    else steps['test-insert'] = last(['test-insert']) ? view('stale', last(['test-insert']), 'tried on an earlier copy') : view('pending');
  }

  // 5 migrate
  if (!migRec) {
    const older = last(['migrate']);
    steps.migrate = older && !swapped ? view('stale', older, 'copied an earlier copy') : view(swapped ? 'done' : 'pending');
  } else {
    const l = live(migRec);
    if (l === 'running') steps.migrate = view('running', migRec, copy ? `${at(copy)}${copy.paused ? ', paused' : ''}` : null);
    else if (l === 'interrupted') steps.migrate = view('interrupted', migRec, `interrupted at ${copy ? at(copy) : 'an unknown point'}: migrate resumes from the last committed batch`);
    else if (l === 'failed') steps.migrate = view('failed', migRec, failNote(migRec));
    else steps.migrate = complete || swapped ? view('done', migRec) : view('pending', migRec, copy ? `${at(copy)}: migrate copies the rest` : null);
  }

  // 6 swap
  {
    const rec = inEpoch(['swap']);
    if (swapped) steps.swap = view('done', swapDone);
    else if (!rec) steps.swap = last(['swap']) ? view('stale', last(['swap']), 'swapped an earlier copy') : view('pending');
    else {
      const l = live(rec);
      steps.swap = l
        ? view(l, rec, l === 'interrupted' ? 'stopped before it committed: nothing changed' : failNote(rec))
        : view('stale', rec, rollbackDone && rollbackDone.id > rec.id ? `swapped back by the rollback at ${time(rollbackDone.startedAt)}` : 'the catalog no longer shows the swap');
    }
  }

  // 7 monitor (and maintain, run from it)
  {
    const m = last(['maintain']);
    const l = m ? live(m) : null;
    steps.maintain = m ? view(l ?? (effectiveStatus(m) === 'done' ? 'done' : 'failed'), m, failNote(m)) : view('pending');
    steps.monitor = l === 'running' || l === 'failed' ? view(l, m, failNote(m!)) : view(phase === 'finished' ? 'done' : 'pending');
  }

  // R rollback: done while it is what the migration last did
  {
    const rec = last(['rollback']);
    if (!rec) steps.rollback = view('pending');
    else if (rec !== significant) steps.rollback = view('pending', rec, `last rolled back at ${time(rec.startedAt)}`);
    else {
      const l = live(rec);
      steps.rollback = l ? view(l, rec, failNote(rec)) : view(phase === 'rolled-back' ? 'done' : 'pending', rec);
    }
  }

  // finish (f on Swap)
  {
    const rec = last(['finish'], swapDone?.id ?? 0);
    const l = rec ? live(rec) : null;
    steps.finish = phase === 'finished' ? view('done', finishDone) : l ? view(l, rec, failNote(rec!)) : view('pending');
  }

  if (local.running) steps[local.running] = { ...steps[local.running], state: 'running' };

  const runningRec = [...recs].reverse().find((r) => effectiveStatus(r) === 'running');
  const state: MigrationState = {
    table: `${t.schema}.${t.name}`,
    phase,
    summary: '',
    steps,
    next: null,
    copy,
    controls: f.journal?.controls ?? null,
    verification,
    swappedBack: phase === 'rolled-back' && cat.target,
    running: runningRec ? { step: runningRec.step, pid: runningRec.pid, since: runningRec.startedAt } : null,
    backlog: f.backlog,
    catalog: cat,
    archived: f.journal?.archived ?? [],
    children: f.children ?? [],
    newTable: `${t.schema}.${t.newTable}`,
    oldTable: `${t.schema}.${t.oldTable}`,
    readAt: f.readAt,
  };
  state.summary = phaseSummary(state, f);
  state.next = nextStep(state, f);
  return state;
}

function phaseSummary(s: MigrationState, f: MigrationFacts): string {
  const t = f.table;
  const c = s.copy;
  switch (s.phase) {
    case 'nothing':
      if (f.catalog.source === null) return `${s.table} does not exist`;
      if (f.catalog.source === 'p') return `${s.table} is already partitioned`;
      if (f.catalog.source === 'other') return `${s.table} is not a plain table`;
      return 'nothing created yet';
    case 'created':
      return `created: ${t.newTable} is in place, nothing copied yet`;
    case 'copying': {
      const where = c && c.percent !== null ? `${c.percent}% (${n(c.copied)}${c.total !== null ? ` of ${n(c.total)}` : ''} rows copied)` : `${n(c?.copied ?? 0)} rows copied`;
      if (c?.running) return `copying: ${where}${c.paused ? ', paused' : ''}`;
      if (c?.interrupted) return `copying: interrupted at ${where}`;
      if (c?.failed) return `copying: migrate failed at ${where}`;
      return `copying: ${where}`;
    }
    case 'migrated': {
      const v = s.verification;
      const verified = v.state === 'ok' ? `the data was verified at ${time(v.at!)}` : v.state === 'failed' ? 'the last verify --data found differences' : 'the data is not verified since the last copy';
      return `migrated: every row is copied and change capture keeps ${t.newTable} in sync; ${verified}`;
    }
    case 'swapped':
      return `swapped: ${s.table} is the partitioned table; ${t.oldTable} keeps receiving every write, so rollback loses nothing`;
    case 'rolled-back':
      return s.swappedBack
        ? `rolled back after the swap: ${s.table} is the original table again; ${t.newTable} stays in sync through change capture`
        : `rolled back: ${t.newTable} and the change capture are removed; ${s.table} is as it was`;
    case 'finished':
      return `finished: ${s.table} is partitioned, change capture is removed${f.catalog.old ? `; ${t.oldTable} is kept (no longer updated)` : ''}`;
  }
}

function nextStep(s: MigrationState, f: MigrationFacts): NextStep | null {
  const st = s.steps;
  const c = s.copy;
  const pct = c && c.percent !== null ? `${c.percent}% (${n(c.copied)} rows copied)` : `${n(c?.copied ?? 0)} rows copied`;
  const verifyData = (why: string): NextStep => ({ step: 'verify', command: 'verify --data', why });
  switch (s.phase) {
    case 'nothing':
      if (f.catalog.source === null) return { step: 'check', command: 'check', why: `${s.table} does not exist: check --schema and --table` };
      if (f.catalog.source !== 'r') return null;
      if (st.check.state !== 'done') return { step: 'check', command: 'check', why: 'see what would stop the migration, then create' };
      return { step: 'create', command: 'create', why: 'nothing is created yet' };
    case 'created':
      if (st.verify.state !== 'done') return { step: 'verify', command: 'verify', why: `compare ${f.table.newTable}'s structure with the source` };
      if (st['test-insert'].state !== 'done') return { step: 'test-insert', command: 'test-insert', why: 'optional: try a sample of one program and compare the query plans (or migrate straight away)' };
      return { step: 'migrate', command: 'migrate', why: 'copy the rows; change capture keeps the copy in sync' };
    case 'copying':
      if (c?.running) return { step: 'migrate', command: 'migrate', why: `migrate is running (server pid ${s.running?.pid ?? '?'}): ${pct}${c.paused ? ', paused (partwise resume continues)' : ''}` };
      if (c?.interrupted) return { step: 'migrate', command: 'migrate', why: `resume at ${pct}: migrate continues from the last committed batch` };
      if (c?.failed) return { step: 'migrate', command: 'migrate', why: `the last migrate failed at ${pct}: fix the cause, then migrate resumes` };
      return { step: 'migrate', command: 'migrate', why: `${pct}: migrate copies the rest` };
    case 'migrated':
    case 'rolled-back': {
      if (s.phase === 'rolled-back' && !s.swappedBack) return { step: 'create', command: 'create', why: 'the rollback removed the copy: create starts again' };
      const v = s.verification;
      if (v.state === 'ok') return { step: 'swap', command: 'swap', why: 'the data is verified: swap the copy in' };
      if (v.state === 'failed') return { step: 'migrate', command: 'migrate', why: 'the last verify --data found differences: migrate repairs the copy, then verify --data again' };
      if (v.clearedBy === 'rollback') return verifyData('the rollback cleared the verification: verify --data, then swap (or rollback again to remove the copy)');
      if (v.clearedBy === 'migrate') return verifyData('the copy changed since the last verify --data: compare every row before the swap');
      return verifyData('the copy is complete: compare every row before the swap');
    }
    case 'swapped':
      return { step: 'monitor', command: 'monitor', why: 'watch the partitions; finish (f on Swap) when satisfied, or rollback swaps back' };
    case 'finished':
      return null;
  }
}
