/**
 * partwise swap: in ONE transaction with a short lock_timeout, retried with backoff and jitter: take the capture
 * lock, block writes to the source (EXCLUSIVE: reads go on), apply the last captured changes, rename and carry over
 * every dependent object (planSwap), replace forward capture by reverse capture (the old table keeps receiving every
 * write made after the swap), and journal the exact reverse in the same transaction. After commit: validate the
 * moved foreign keys, smoke check through the original name, ANALYZE (autovacuum never analyzes a partitioned parent).
 */
import type pg from 'pg';
import { takeSnapshot } from '../catalog/snapshot.js';
import type { Dependent, Snapshot } from '../catalog/types.js';
import type { Config } from '../config/config.js';
import { ident, qname } from '../db/quote.js';
import { EXIT, type Emit } from '../events.js';
import { TransactionFailed, transactionFailure } from '../exec/retry.js';
import { Journal } from '../journal/journal.js';
import { captureBacklog, captureInstallStatements, captureInstalled, captureIntegrity, captureRemovalStatements, drainLog, ReplayBlocked } from '../move/capture.js';
import type { Direction } from '../move/captureNames.js';
import { latestDataVerification } from '../move/checksum.js';
import { structureChanges, structureFingerprint } from '../move/structure.js';
import { PlanError } from '../plan/planCreate.js';
import { readLogicalSlots } from '../catalog/logicalSlots.js';
import { publicationItems } from '../plan/publications.js';
import { foreignKeysToValidate, planSwap, type SwapPlan } from '../plan/planSwap.js';
import { carriedChildren } from '../plan/planCreate.js';
import { childName } from '../plan/carryChildren.js';
import { readChildCheckpoints } from '../move/childBackfill.js';
import type { LockInfo } from '../plan/types.js';
import type { StepContext, StepResult } from './context.js';
import { smokeCheck } from './smoke.js';
import { swapGate, SwitchRefused } from './switchGate.js';
import { switchTables, type TableSwitch } from './switchTables.js';
import { REPAIR } from './verifyData.js';

/** Above this many pending captured changes the swap would hold writes too long: migrate (replay) first. */
export const DEFAULT_MAX_BACKLOG = 10_000;

export interface SwapOptions {
  maxBacklog?: number;
}

/** What the swap journals for rollback (detail of its `swap` step record). */
export interface SwapJournal {
  reverse: string[];
  forwardCapture: string[];
  validate: Array<{ table: string; name: string }>;
  dependents: Dependent[];
  /** the relations the reverse changes besides the two tables (absent in records of partwise before 0.2: rollback derives them) */
  locks?: LockInfo[];
}

/** SHARE UPDATE EXCLUSIVE on the referencing table: writes go on while it scans. */
export function validateStatement(fk: { table: string; name: string }): string {
  return `ALTER TABLE ${fk.table} VALIDATE CONSTRAINT ${ident(fk.name)}`;
}

export async function validateForeignKeys(client: pg.ClientBase, fks: Array<{ table: string; name: string }>, emit: Emit): Promise<string[]> {
  const problems: string[] = [];
  for (const fk of fks) {
    try {
      await client.query(validateStatement(fk));
      emit({ type: 'info', message: `foreign key ${fk.name} on ${fk.table} validated` });
    } catch (e) {
      problems.push(`foreign key ${fk.name} on ${fk.table} could not be validated (${(e as Error).message}); it stays NOT VALID and is enforced for new rows: run ALTER TABLE ${fk.table} VALIDATE CONSTRAINT ${ident(fk.name)} later`);
    }
  }
  return problems;
}

/** The carried children (src/plan/carryChildren.ts) whose back-fill is not complete or that lack their index. */
async function childrenNotReady(client: pg.ClientBase, cfg: Config, snap: Snapshot): Promise<string[]> {
  const carries = carriedChildren(snap, cfg);
  if (!carries.length) return [];
  const journal = await Journal.find(client, cfg);
  const cps = journal ? await readChildCheckpoints(client, journal.migrationId) : [];
  const out: string[] = [];
  for (const c of carries) {
    const cp = cps.find((x) => x.child === c.child);
    const facts = snap.children.find((x) => x.schema === c.fk.fromSchema && x.table === c.fk.fromTable);
    if (!cp?.done) out.push(`the back-fill of ${c.column} on ${childName(c)} ${cp ? `stopped at block ${cp.nextBlock} of ${cp.endBlock}` : 'has not run'}`);
    else if (!facts?.covered) out.push(`${childName(c)} has no valid index on (${[...c.fk.columns, c.column].join(', ')})`);
  }
  return out;
}

/** Whether the catalog shows the swap done: cfg.table is partitioned and the original sits at cfg.oldTable. */
export function isSwapped(snap: Snapshot): boolean {
  return snap.source?.relkind === 'p' && snap.old !== null;
}

/**
 * The swap and the rollback apply what their log holds before taking their locks: every entry replayed under them
 * holds the application's writes. How many entries it applied.
 */
export function drainBeforeLock(client: pg.ClientBase, snap: Snapshot, cfg: Config, direction: Direction): Promise<number> {
  return drainLog(client, snap, cfg, direction, { limit: DRAIN_LIMIT, maxRounds: 100 });
}

/** Log entries per replay batch before the switch's locks. */
export const DRAIN_LIMIT = 5000;

/** The identity columns' maxima in the copy, read before any lock: a scan inside the swap transaction would hold the application's writes. */
export async function readIdentityFloors(client: pg.ClientBase, snap: Snapshot, cfg: Config): Promise<Record<string, string>> {
  const floors: Record<string, string> = {};
  for (const seq of snap.source!.sequences.filter((q) => q.kind === 'identity')) {
    const r = await client.query<{ m: string | null }>(`SELECT max(${ident(seq.columnName)})::text AS m FROM ${qname(cfg.schema, cfg.newTable)}`);
    floors[seq.columnName] = r.rows[0]?.m ?? '0';
  }
  return floors;
}

/** The swap's switch (src/steps/switchTables.ts): the plan's statements, forward capture removed, reverse capture installed. */
export function swapSwitch(snap: Snapshot, cfg: Config, plan: SwapPlan): TableSwitch {
  return {
    direction: 'forward', idle: qname(cfg.schema, cfg.newTable), live: qname(cfg.schema, cfg.table), alsoLocked: plan.locks,
    deadlockTimeoutMs: snap.server.deadlockTimeoutMs,
    statements: [...plan.statements, ...captureRemovalStatements(cfg, 'forward'), ...captureInstallStatements(snap, cfg, 'reverse')],
  };
}

/** The locks the swap takes, for the step's events and its preview. */
export function swapLocks(cfg: Config, plan: SwapPlan): LockInfo[] {
  const S = qname(cfg.schema, cfg.table);
  return [
    { mode: 'ACCESS EXCLUSIVE', on: S, why: 'SHARE UPDATE EXCLUSIVE first (no DDL; reads and writes go on) for the last checks, then, after the new table\'s ACCESS EXCLUSIVE, ACCESS EXCLUSIVE while the last changes are applied and for the renames (each wait bounded below deadlock_timeout)' },
    ...plan.locks.filter((l) => l.on !== S),
  ];
}

/** What the swap journals for rollback: the exact reverse it would run, from the same plan. */
export function swapRecord(snap: Snapshot, cfg: Config, plan: SwapPlan): SwapJournal {
  return {
    reverse: plan.reverse,
    forwardCapture: captureInstallStatements(snap, cfg, 'forward'),
    validate: foreignKeysToValidate(snap),
    dependents: snap.source!.dependents,
    // the referencing tables the reverse changes (the two tables are the switch's own, and the copy's name is gone after the swap)
    locks: plan.locks.filter((l) => l.on !== qname(cfg.schema, cfg.table) && l.on !== qname(cfg.schema, cfg.newTable) && !l.byStatementOnly),
  };
}

/** Why the data was not verified: never, or a rollback after a swap cleared the verification. */
async function unverified(client: pg.ClientBase, cfg: Config): Promise<string> {
  const journal = await Journal.find(client, cfg);
  const rollback = journal ? (await journal.latest()).find((s) => s.step === 'rollback') : undefined;
  if (rollback?.status === 'done' && rollback.detail.swapped === true)
    return `the rollback (${rollback.finishedAt}) cleared the data verification: ${cfg.newTable} is kept in step by change capture, but must be verified again. Run partwise verify --data, then swap`;
  return `the data was never verified: run partwise verify --data first`;
}

/**
 * The fast answer before any lock: what the journal and the catalog already show. The decisive checks run again
 * under the locks (src/steps/switchGate.ts).
 */
async function refusal(client: pg.ClientBase, cfg: Config, snap: Snapshot, maxBacklog: number): Promise<string | null> {
  const v = await latestDataVerification(client, cfg);
  if (!v) return unverified(client, cfg);
  if (!v.ok) return `the latest verify --data (${v.verifiedAt}) found differences: ${REPAIR}`;
  const journal = await Journal.find(client, cfg);
  const migrate = journal ? (await journal.latest()).find((s) => s.step === 'migrate') : undefined;
  if (migrate && migrate.startedAt > v.verifiedAt) return `partwise migrate ran after the latest verify --data (${v.verifiedAt}): run partwise verify --data again`;
  if (!(await captureInstalled(client, cfg, 'forward')))
    return `change capture is not installed on ${cfg.schema}.${cfg.table}: writes since the copy would be lost. Run partwise migrate (it installs capture) and verify --data`;
  const planned = structureFingerprint(snap.source!, snap.target!);
  const problems = [
    ...(await captureIntegrity(client, cfg, 'forward')),
    ...(v.structure ? structureChanges(v.structure, planned, { source: `${cfg.schema}.${cfg.table}`, copy: `${cfg.schema}.${cfg.newTable}` }).map((d) => `${d} since the latest verify --data`)
      : ['the latest verify --data recorded no structure to compare with (an older partwise ran it)']),
  ];
  if (problems.length) return `${problems.join('; ')}. To repair: ${REPAIR}, then partwise swap`;
  const unfilled = await childrenNotReady(client, cfg, snap);
  if (unfilled.length) return `${unfilled.join('; ')}: run partwise migrate (it back-fills and indexes them), then swap`;
  const backlog = await captureBacklog(client, cfg, 'forward');
  if (backlog > maxBacklog)
    return `${backlog} captured change(s) are still pending (limit ${maxBacklog}); the swap would hold writes while applying them. Run partwise verify --data (it applies them) or partwise migrate, then swap`;
  return null;
}

export async function runSwap(ctx: StepContext, opts: SwapOptions = {}): Promise<StepResult> {
  const { client, cfg, emit } = ctx;
  const maxBacklog = opts.maxBacklog ?? DEFAULT_MAX_BACKLOG;
  const snap = await takeSnapshot(client, cfg);
  if (isSwapped(snap)) {
    // a process that died right after the commit may have left moved foreign keys NOT VALID: finish that part
    const journal = await Journal.find(client, cfg);
    const record = journal ? ((await journal.latest()).find((s) => s.step === 'swap')?.detail as Partial<SwapJournal> | undefined) : undefined;
    const pending = [];
    for (const fk of record?.validate ?? []) {
      const r = await client.query(`SELECT NOT convalidated AS pending FROM pg_constraint WHERE conrelid = to_regclass($1) AND conname = $2 AND conparentid = 0`, [fk.table, fk.name]);
      if (r.rows[0]?.pending) pending.push(fk);
    }
    const problems = await validateForeignKeys(client, pending, emit);
    return {
      ok: problems.length === 0, exitCode: problems.length ? EXIT.failed : EXIT.ok,
      summary: `${cfg.schema}.${cfg.table} is already the partitioned table (swapped earlier)${pending.length ? `; ${pending.length} foreign key(s) left NOT VALID were validated` : ''}${problems.length ? `; ${problems.join('; ')}` : '; nothing to do'}`,
    };
  }

  // identity maxima read now, before any lock: a scan inside the swap transaction would hold the application's writes
  const identityFloors = await readIdentityFloors(client, snap, cfg);
  let plan;
  try {
    plan = planSwap(snap, cfg, { identityFloors });
  } catch (e) {
    if (e instanceof PlanError) return { ok: false, exitCode: EXIT.failed, summary: `cannot swap: ${e.message}; nothing was changed` };
    throw e;
  }
  const refused = await refusal(client, cfg, snap, maxBacklog);
  if (refused) return { ok: false, exitCode: EXIT.checksFailed, summary: `swap refused: ${refused}; nothing was changed` };
  // subscribers that the swap would stop for good (src/plan/publications.ts): the same words as check
  const stopped = publicationItems(snap.source!, cfg, await readLogicalSlots(client)).filter((i) => i.status === 'fail');
  if (stopped.length)
    return { ok: false, exitCode: EXIT.checksFailed, summary: `swap refused: ${stopped.map((i) => `${i.reason}. To go on: ${i.todo}`).join('. ')}; nothing was changed`, data: { publications: stopped } };
  const verified = (await latestDataVerification(client, cfg))!.structure;
  // what the log holds now is applied before any table lock is taken: under the lock only the changes of the last
  // moment remain (every entry replayed under the lock holds the application's writes a little longer)
  let predrained: number;
  try {
    predrained = await drainBeforeLock(client, snap, cfg, 'forward');
  } catch (e) {
    if (e instanceof ReplayBlocked) return { ok: false, exitCode: EXIT.checksFailed, summary: `swap refused: ${e.message}; nothing was changed` };
    throw e;
  }
  for (const n of plan.notes) emit({ type: 'warn', message: n });

  const record = swapRecord(snap, cfg, plan);
  const journal = await Journal.open(client, cfg);
  const logId = await journal.start('swap', { statements: plan.statements.length });
  const title = swapTitle(cfg);
  const sw = swapSwitch(snap, cfg, plan);
  emit({ type: 'step.start', step: 'swap', title, statements: sw.statements, locks: swapLocks(cfg, plan) });
  const t0 = Date.now();
  let switched: { attempts: number; replayed: number };
  try {
    switched = await switchTables(ctx, snap, cfg, 'swap', sw, {
      gate: swapGate(cfg, verified, structureFingerprint(snap.source!, snap.target!), carriedChildren(snap, cfg)),
      // journaled in the same transaction: a swap that committed always has its reverse on record
      record: async (replayed) => {
        await journal.finish(logId, 'done', undefined, { ...record, replayed });
      },
    });
  } catch (e) {
    const unchanged = `the transaction was rolled back: ${cfg.table} is still the original table, nothing has changed`;
    const refusedInside = refusalUnderLocks(e);
    if (refusedInside) {
      const message = `swap refused under its locks: ${refusedInside}; ${unchanged}`;
      emit({ type: 'step.fail', step: 'swap', title, error: { message, unchanged } });
      await journal.finish(logId, 'failed', message).catch(() => undefined);
      return { ok: false, exitCode: EXIT.checksFailed, summary: message };
    }
    const { message, error } = transactionFailure(e, 'swap failed', unchanged, 'partwise swap --yes');
    emit({ type: 'step.fail', step: 'swap', title, error });
    await journal.finish(logId, 'failed', message, { blockers: e instanceof TransactionFailed ? e.blockers : [] }).catch(() => undefined);
    return { ok: false, exitCode: EXIT.failed, summary: message, data: { error } };
  }
  const { attempts, replayed } = switched;
  emit({ type: 'step.done', step: 'swap', title, ms: Date.now() - t0 });
  emit({ type: 'info', message: `swapped in ${attempts} attempt(s); ${predrained} captured change(s) applied before the locks, ${replayed} under them; reverse capture now keeps ${cfg.oldTable} up to date` });

  const problems = await afterSwitch(ctx, record.validate, cfg.oldTable, record.dependents, true);
  const summary = `${cfg.schema}.${cfg.table} is now the partitioned table; the original is ${cfg.schema}.${cfg.oldTable} and keeps receiving every write (partwise rollback --yes swaps back, partwise finish --yes ends capture)`;
  if (problems.length) {
    for (const p of problems) emit({ type: 'warn', message: p });
    return { ok: false, exitCode: EXIT.failed, summary: `${summary}. But the checks after the swap found problems: ${problems.join('; ')}. Consider partwise rollback --yes`, data: { problems, attempts, predrained, replayed } };
  }
  return { ok: true, exitCode: EXIT.ok, summary, data: { attempts, predrained, replayed, notes: plan.notes } };
}

/** The gate's refusal (or a change replay cannot apply) that ended a switch transaction, in words; null for other failures. */
export function refusalUnderLocks(e: unknown): string | null {
  const cause = e instanceof TransactionFailed ? e.cause : e;
  return cause instanceof SwitchRefused || cause instanceof ReplayBlocked ? cause.message : null;
}

/** The parent's statistics and every partition's (ANALYZE on a partitioned table recurses; autovacuum never analyzes the parent). */
export function analyzeStatement(cfg: Config): string {
  return `ANALYZE ${qname(cfg.schema, cfg.table)}`;
}

export const swapTitle = (cfg: Config) => `Swap ${cfg.newTable} in as ${cfg.table} (the original becomes ${cfg.oldTable})`;

/** After a swap or rollback committed: validate moved foreign keys, smoke check, ANALYZE. Returns problems. */
export async function afterSwitch(ctx: StepContext, fks: Array<{ table: string; name: string }>, other: string, dependents: SwapJournal['dependents'], analyze: boolean): Promise<string[]> {
  const { client, cfg, emit } = ctx;
  const problems = await validateForeignKeys(client, fks, emit);
  const live = await takeSnapshot(client, cfg);
  if (!live.source) return [...problems, `${cfg.schema}.${cfg.table} is missing after the switch`];
  const smoke = await smokeCheck(client, cfg, live.source, qname(cfg.schema, other), dependents);
  for (const p of smoke.passed) emit({ type: 'info', message: `smoke check: ${p}` });
  problems.push(...smoke.problems.map((p) => `smoke check: ${p}`));
  if (analyze) {
    await client.query(analyzeStatement(cfg));
    emit({ type: 'info', message: `analyzed ${cfg.table} and its partitions` });
  }
  return problems;
}
