/**
 * partwise archive --program X --to PATH: the program's partition detached with bounded locks, its rows streamed with
 * COPY into PATH (gzip) with a manifest, the file read back and checked against the server's count and checksum, and
 * only then the detached table dropped (kept with --keep-table). Each phase is journaled (partwise.archive) when it is
 * done, so a run that is killed is continued by the next one from the last finished phase. The lookup row stays: new
 * rows of the program go to the default partition, maintain leaves them there, check and monitor say so, restore
 * brings them into the partition again.
 */
import { existsSync, unlinkSync } from 'node:fs';
import { qname } from '../db/quote.js';
import { EXIT, type PersonError } from '../events.js';
import { personError } from '../exec/errors.js';
import { lockedTransaction, retryOnLock, transactionFailure } from '../exec/retry.js';
import { withTransaction } from '../exec/transaction.js';
import { Journal } from '../journal/journal.js';
import { columnList, rowsChecksum, type RowsChecksum } from '../archive/checksum.js';
import { loadDataFile, writeDataFile, type TransferProgress } from '../archive/dataFile.js';
import { manifestPath, partwiseVersion, readManifest, writeManifest, MANIFEST_FORMAT, type Manifest } from '../archive/manifest.js';
import { ArchiveRefused, planArchive, type ArchivePlan } from '../archive/planArchive.js';
import { setArchivePhase } from '../archive/records.js';
import type { StepContext, StepResult } from './context.js';

export interface ArchiveOptions {
  program: string;
  to?: string;
  keepTable: boolean;
}

/** Thrown by a phase: the words of the failure (what stays, what to run) are already in it. */
class PhaseFailed extends Error {
  constructor(readonly error: PersonError) {
    super(error.message);
  }
}

const who = (p: ArchivePlan) => (p.label !== null ? `${p.label} (${p.key})` : p.key);

export async function runArchive(ctx: StepContext, o: ArchiveOptions): Promise<StepResult> {
  const { client, cfg, emit } = ctx;
  let plan: ArchivePlan;
  try {
    plan = await planArchive(client, cfg, o.program, o.to);
  } catch (e) {
    if (e instanceof ArchiveRefused) return { ok: false, exitCode: EXIT.checksFailed, summary: `archive refused: ${e.message}; nothing was changed` };
    throw e;
  }
  const fresh = !plan.resumes || plan.resumes.path !== plan.path;
  if (fresh && (existsSync(plan.path) || existsSync(manifestPath(plan.path))))
    return { ok: false, exitCode: EXIT.checksFailed, summary: `archive refused: ${plan.path} (or its manifest) already exists and partwise does not overwrite files; choose another --to; nothing was changed` };
  const again = `partwise archive --program key:${plan.key} --to ${plan.path} --yes`;
  const journal = await Journal.open(client, cfg);
  const logId = await journal.start('archive', { program: plan.key, path: plan.path, resumed: plan.resumes?.phase ?? null });
  if (plan.resumes) emit({ type: 'info', message: `continuing the archive of ${who(plan)} interrupted after "${plan.resumes.phase}"` });
  const base = { program: plan.key, label: plan.label, partition: plan.partition.name, path: plan.path };
  const partQ = qname(plan.partition.schema, plan.partition.name);

  try {
    // 1. detach
    if (plan.state !== 'detached') await detach(ctx, plan, journal.migrationId, base, again);
    else emit({ type: 'step.skip', step: 'archive-detach', title: `Detach ${plan.partition.name}`, reason: 'detached by the earlier run' });

    // 2. write (again, when an earlier run stopped before the file was verified: the detached table is unchanged)
    const verified = plan.resumes?.phase === 'verified' && plan.resumes.path === plan.path && readManifestOk(plan.path);
    let manifest: Manifest;
    if (verified) {
      manifest = readManifest(plan.path) as Manifest;
      emit({ type: 'step.skip', step: 'archive-write', title: `Write ${plan.path}`, reason: 'written and verified by the earlier run' });
    } else {
      manifest = await write(ctx, plan, journal.migrationId, base);
      // 3. verify by reading the file back
      await verify(ctx, plan, manifest, again);
      await setArchivePhase(client, journal.migrationId, { ...base, phase: 'verified' });
    }

    // 4. only then: drop the detached table (or keep it)
    if (o.keepTable) {
      await setArchivePhase(client, journal.migrationId, { ...base, phase: 'archived', keptTable: true });
      emit({ type: 'info', message: `--keep-table: ${partQ} stays as a table of its own (not part of ${cfg.table}); drop it when you no longer need it` });
    } else {
      const title = `Drop the detached table ${plan.partition.name}`;
      emit({ type: 'step.start', step: 'archive-drop', title, statements: [plan.drop], locks: [{ mode: 'ACCESS EXCLUSIVE', on: partQ, why: 'dropping the detached table (nothing uses it)' }] });
      const t0 = Date.now();
      await lockedTransaction(client, { policy: ctx.retry, emit, step: 'archive-drop', relations: [partQ] }, async (exec) => {
        await exec(plan.drop);
        await setArchivePhase(client, journal.migrationId, { ...base, phase: 'archived', keptTable: false });
      }).catch((e) => {
        throw new PhaseFailed(transactionFailure(e, 'dropping the detached table failed', `the archive ${plan.path} is written and verified; ${partQ} still holds the rows`, again).error);
      });
      emit({ type: 'step.done', step: 'archive-drop', title, ms: Date.now() - t0 });
    }
    const summary = `${who(plan)} archived: ${manifest.rows.toLocaleString('en-US')} row(s) in ${plan.path} (manifest ${manifestPath(plan.path)}), verified by reading it back; ` +
      `${o.keepTable ? `${partQ} is kept as a table of its own` : `${partQ} is dropped`}. The lookup row stays: new rows of this program go to the default partition until partwise restore --from ${plan.path} --yes`;
    await journal.finish(logId, 'done', undefined, { rows: manifest.rows, checksum: manifest.checksum, keptTable: o.keepTable });
    return { ok: true, exitCode: EXIT.ok, summary, data: { program: plan.key, path: plan.path, rows: manifest.rows, checksum: manifest.checksum, bytes: manifest.data.bytes } };
  } catch (e) {
    const error = e instanceof PhaseFailed ? e.error : personError(e, { unchanged: 'what the journal shows as done stays done', todo: `fix the cause, then run ${again} (it continues)` });
    await journal.finish(logId, 'failed', error.message).catch(() => undefined);
    return { ok: false, exitCode: EXIT.failed, summary: `archive failed: ${error.message}${error.unchanged ? `; ${error.unchanged}` : ''}${error.todo ? `; ${error.todo}` : ''}`, data: { error } };
  }
}

const readManifestOk = (path: string) => existsSync(path) && typeof readManifest(path) !== 'string';

type Base = { program: string; label: string | null; partition: string; path: string };

async function detach(ctx: StepContext, plan: ArchivePlan, migrationId: number, base: Base, again: string): Promise<void> {
  const { client, emit } = ctx;
  const d = plan.detach;
  const title = `Detach ${plan.partition.name} (${who(plan)}) from ${plan.parent.name}${d.concurrently ? ' concurrently' : ''}`;
  emit({ type: 'step.start', step: 'archive-detach', title, statements: [d.statement], locks: d.locks });
  emit({ type: 'info', message: d.why });
  const t0 = Date.now();
  const target = { policy: ctx.retry, emit, step: 'archive-detach', relations: d.locks.map((l) => l.on) };
  const unchanged = `${plan.partition.name} is still a partition of ${plan.parent.name}; nothing was changed`;
  await setArchivePhase(client, migrationId, { ...base, phase: 'detaching' });
  try {
    if (d.concurrently) {
      // CONCURRENTLY cannot run in a transaction block: the session's lock_timeout bounds each wait instead
      await retryOnLock(client, target, async (exec) => {
        // a DETACH ... CONCURRENTLY whose wait timed out has committed its first half: the partition is "detach
        // pending" and only FINALIZE completes it (docs/behaviours/detach-concurrently-leaves-pending-on-timeout.md)
        const statement = (await detachPending(ctx, plan)) ? finalizeStatement(plan) : d.statement;
        await client.query(`SELECT pg_catalog.set_config('lock_timeout', $1, false)`, [`${ctx.retry.lockTimeoutMs}ms`]);
        try {
          await exec(statement);
        } finally {
          await client.query(`SELECT pg_catalog.set_config('lock_timeout', '0', false)`);
        }
      });
      await setArchivePhase(client, migrationId, { ...base, phase: 'detached' });
    } else {
      // the journal's phase commits with the detach: they never disagree
      await lockedTransaction(client, target, async (exec) => {
        await exec(d.statement);
        await setArchivePhase(client, migrationId, { ...base, phase: 'detached' });
      });
    }
  } catch (e) {
    const f = transactionFailure(e, 'detaching the partition failed', unchanged, again);
    emit({ type: 'step.fail', step: 'archive-detach', title, error: f.error });
    throw new PhaseFailed(f.error);
  }
  emit({ type: 'step.done', step: 'archive-detach', title, ms: Date.now() - t0 });
}

async function detachPending(ctx: StepContext, plan: ArchivePlan): Promise<boolean> {
  const r = await ctx.client.query(`SELECT coalesce((SELECT inhdetachpending FROM pg_catalog.pg_inherits WHERE inhrelid = pg_catalog.to_regclass($1)), false) AS p`, [qname(plan.partition.schema, plan.partition.name)]);
  return r.rows[0].p as boolean;
}

const finalizeStatement = (plan: ArchivePlan) => `ALTER TABLE ${qname(plan.parent.schema, plan.parent.name)} DETACH PARTITION ${qname(plan.partition.schema, plan.partition.name)} FINALIZE`;

function transferEmitter(ctx: StepContext, step: 'archive' | 'restore', what: string, totalRows: number | null, totalBytes: number | null) {
  return (p: TransferProgress) => ctx.emit({ type: 'transfer', step, what, rows: p.rows, totalRows, bytes: p.bytes, totalBytes });
}

/** COPY TO STDOUT into the file, and the server's count and checksum, on one REPEATABLE READ snapshot. */
async function write(ctx: StepContext, plan: ArchivePlan, migrationId: number, base: Base): Promise<Manifest> {
  const { client, emit } = ctx;
  const partQ = qname(plan.partition.schema, plan.partition.name);
  const title = `Write ${who(plan)}'s rows to ${plan.path}`;
  emit({ type: 'step.start', step: 'archive-write', title, statements: [plan.copy], locks: [{ mode: 'ACCESS SHARE', on: partQ, why: 'reading the detached table' }] });
  const t0 = Date.now();
  const names = plan.columns.map((c) => c.name);
  let sums: RowsChecksum;
  const estimate = Number((await client.query<{ n: string }>(`SELECT greatest(reltuples, 0)::int8 AS n FROM pg_catalog.pg_class WHERE oid = pg_catalog.to_regclass($1)`, [partQ])).rows[0]?.n ?? 0);
  const file = await withTransaction(client, { isolation: 'repeatable read', readOnly: true, settings: [['statement_timeout', '0']] }, async () => {
    sums = await rowsChecksum(client, partQ, names, plan.server.versionNum);
    return writeDataFile(client, plan.copy, plan.path, transferEmitter(ctx, 'archive', 'write', sums.rows || estimate || null, null));
  }).catch((e) => {
    for (const p of [plan.path, `${plan.path}.partial`]) if (existsSync(p)) unlinkSync(p);
    throw new PhaseFailed(personError(e, { statement: plan.copy, unchanged: `${partQ} is detached and holds the rows; no archive file was left`, todo: `fix the cause, then run partwise archive --program key:${plan.key} --to ${plan.path} --yes (it continues)` }));
  });
  if (file.rows !== sums!.rows) throw new PhaseFailed({ message: `the COPY wrote ${file.rows} row(s) but the table held ${sums!.rows} on the same snapshot`, unchanged: `${partQ} is detached and holds the rows` });
  const manifest = writeManifest(plan.path, {
    format: MANIFEST_FORMAT, table: plan.parent, key: { column: ctx.cfg.key, type: plan.keyType, value: plan.key }, label: plan.label,
    partition: plan.partition.name, columns: plan.columns, rows: sums!.rows, checksum: sums!.checksum,
    data: { file: plan.path.split('/').pop()!, sha256: file.sha256, bytes: file.bytes, uncompressedBytes: file.uncompressedBytes },
    partwiseVersion: partwiseVersion(), server: plan.server, createdAt: new Date().toISOString(),
  });
  await setArchivePhase(client, migrationId, { ...base, phase: 'written', rows: manifest.rows, checksum: manifest.checksum, sha256: manifest.data.sha256 });
  emit({ type: 'step.done', step: 'archive-write', title, ms: Date.now() - t0 });
  return manifest;
}

/**
 * The file read back: its SHA-256 against the manifest, its rows loaded into a temporary table of the same column
 * types and the server's checksum computed on them the same way. The temporary table goes with the transaction.
 */
async function verify(ctx: StepContext, plan: ArchivePlan, manifest: Manifest, again: string): Promise<void> {
  const { client, emit } = ctx;
  const partQ = qname(plan.partition.schema, plan.partition.name);
  const title = `Verify ${plan.path} by reading it back`;
  const names = manifest.columns.map((c) => c.name);
  const temp = 'pg_temp.partwise_archive_check';
  emit({ type: 'step.start', step: 'archive-verify', title, statements: [`CREATE TEMPORARY TABLE ${temp} AS SELECT ${columnList(names)} FROM ONLY ${partQ} WITH NO DATA`, `COPY ${temp} (${columnList(names)}) FROM STDIN`], locks: [] });
  const t0 = Date.now();
  const problem = await withTransaction(client, { alwaysRollback: true, settings: [['statement_timeout', '0']] }, async () => {
    await client.query(`CREATE TEMPORARY TABLE ${temp} AS SELECT ${columnList(names)} FROM ONLY ${partQ} WITH NO DATA`);
    const read = await loadDataFile(client, plan.path, temp, columnList(names), transferEmitter(ctx, 'archive', 'verify', manifest.rows, manifest.data.bytes));
    if (read.sha256 !== manifest.data.sha256 || read.bytes !== manifest.data.bytes) return `the file read back differs from what was written (SHA-256 ${read.sha256}, ${read.bytes} bytes; written ${manifest.data.sha256}, ${manifest.data.bytes} bytes)`;
    const back = await rowsChecksum(client, temp, names, plan.server.versionNum);
    if (back.rows !== manifest.rows || back.checksum !== manifest.checksum)
      return `the file holds ${back.rows} row(s) with checksum ${back.checksum}; the table held ${manifest.rows} with ${manifest.checksum}`;
    return null;
  }).catch((e) => `reading it back failed: ${(e as Error).message}`);
  if (problem) {
    const error: PersonError = { message: `the archive does not verify: ${problem}`, unchanged: `${partQ} is detached and still holds every row (it is not dropped)`, todo: `run ${again} (it writes the file again), or look at the disk` };
    emit({ type: 'step.fail', step: 'archive-verify', title, error });
    throw new PhaseFailed(error);
  }
  emit({ type: 'info', message: `read back: ${manifest.rows.toLocaleString('en-US')} row(s), checksum ${manifest.checksum}, SHA-256 ${manifest.data.sha256}: as written` });
  emit({ type: 'step.done', step: 'archive-verify', title, ms: Date.now() - t0 });
}

