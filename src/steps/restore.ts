/**
 * partwise restore --from PATH: the archive checked before anything changes (its manifest unedited, the data file's
 * SHA-256, size and row count as the manifest says, the gzip whole), then in ONE transaction the standalone table
 * created with the parent's columns, indexes, RLS, policies and grants and a CHECK matching the bound, loaded with
 * COPY FROM STDIN and its count and checksum compared with the manifest's (a mismatch rolls all of it back), then in
 * a short transaction under lock_timeout the program's rows moved out of the default partition and the table
 * attached (the CHECK spares the scan under the lock) and the CHECK dropped. Each transaction journals its phase
 * (partwise.archive): a killed run is rolled back by the server or continued by the next run.
 */
import { EXIT, type PersonError } from '../events.js';
import { lockedTransaction, transactionFailure } from '../exec/retry.js';
import { withTransaction } from '../exec/transaction.js';
import { Journal } from '../journal/journal.js';
import { qname } from '../db/quote.js';
import { columnList, rowsChecksum } from '../archive/checksum.js';
import { loadDataFile, scanDataFile, type TransferProgress } from '../archive/dataFile.js';
import { readManifest, type Manifest } from '../archive/manifest.js';
import { absolutePath } from '../archive/planArchive.js';
import { planRestore, RestoreRefused, type RestorePlan } from '../archive/planRestore.js';
import { setArchivePhase } from '../archive/records.js';
import type { StepContext, StepResult } from './context.js';

export interface RestoreOptions {
  from: string;
}

const who = (m: Manifest) => (m.label !== null ? `${m.label} (${m.key.value})` : m.key.value);

/** The archive as a whole, checked without the database: the manifest, or why the files cannot be trusted. */
export async function checkArchive(path: string, onProgress: (p: TransferProgress) => void = () => undefined): Promise<Manifest | string> {
  const m = readManifest(path);
  if (typeof m === 'string') return m;
  let scan;
  try {
    scan = await scanDataFile(path, onProgress);
  } catch (e) {
    return `${path} cannot be read back (${(e as Error).message}): it is damaged or truncated`;
  }
  if (scan.bytes !== m.data.bytes || scan.sha256 !== m.data.sha256)
    return `${path} is not the file the manifest describes (SHA-256 ${scan.sha256}, ${scan.bytes} bytes; the manifest says ${m.data.sha256}, ${m.data.bytes} bytes): it is damaged or another file`;
  if (scan.rows !== m.rows) return `${path} holds ${scan.rows} row(s), the manifest says ${m.rows}`;
  return m;
}

export async function runRestore(ctx: StepContext, o: RestoreOptions): Promise<StepResult> {
  const { client, cfg, emit } = ctx;
  const path = absolutePath(o.from);
  const refused = (why: string): StepResult => ({ ok: false, exitCode: EXIT.checksFailed, summary: `restore refused: ${why}; nothing was changed` });
  emit({ type: 'step.start', step: 'restore-check', title: `Check ${path} and its manifest`, statements: [], locks: [] });
  const t0 = Date.now();
  const manifest0 = readManifest(path);
  const checked = await checkArchive(path, (p) => emit({ type: 'transfer', step: 'restore', what: 'check', rows: p.rows, totalRows: typeof manifest0 === 'string' ? null : manifest0.rows, bytes: p.bytes, totalBytes: typeof manifest0 === 'string' ? null : manifest0.data.bytes }));
  if (typeof checked === 'string') {
    emit({ type: 'step.fail', step: 'restore-check', title: `Check ${path}`, error: { message: checked, unchanged: 'nothing was changed' } });
    return refused(checked);
  }
  const manifest = checked;
  emit({ type: 'step.done', step: 'restore-check', title: `Check ${path}: ${manifest.rows.toLocaleString('en-US')} row(s) of ${who(manifest)}, SHA-256 as in the manifest`, ms: Date.now() - t0 });
  let plan: RestorePlan;
  try {
    plan = await planRestore(client, cfg, manifest);
  } catch (e) {
    if (e instanceof RestoreRefused) return refused(e.message);
    throw e;
  }
  const again = `partwise restore --from ${path} --yes`;
  const journal = await Journal.open(client, cfg);
  const logId = await journal.start('restore', { program: manifest.key.value, path, resumed: plan.record?.phase ?? null });
  const base = { program: manifest.key.value, label: manifest.label, partition: plan.partition.name, path };
  const partQ = qname(plan.partition.schema, plan.partition.name);
  const fail = async (error: PersonError): Promise<StepResult> => {
    await journal.finish(logId, 'failed', error.message).catch(() => undefined);
    return { ok: false, exitCode: EXIT.failed, summary: `restore failed: ${error.message}${error.unchanged ? `; ${error.unchanged}` : ''}${error.todo ? `; ${error.todo}` : ''}`, data: { error } };
  };

  // 1. the standalone table, loaded and checked, in one transaction: a failure or a kill leaves nothing
  if (plan.loaded) {
    const now = await withTransaction(client, { isolation: 'repeatable read', readOnly: true, settings: [['statement_timeout', '0']] }, () => rowsChecksum(client, partQ, manifest.columns.map((c) => c.name), plan.versionNum));
    if (now.rows !== manifest.rows || now.checksum !== manifest.checksum)
      return fail({ message: `${partQ}, loaded by an interrupted run, no longer holds the archive's rows (${now.rows} row(s), checksum ${now.checksum}; the archive ${manifest.rows}, ${manifest.checksum})`, unchanged: `${partQ} is not attached; the table is as it was`, todo: `drop ${partQ}, then run ${again}` });
    emit({ type: 'step.skip', step: 'restore-load', title: `Load ${partQ}`, reason: 'loaded and checked by the interrupted run (checked again now)' });
  } else {
    const title = `Create ${plan.partition.name} and load ${manifest.rows.toLocaleString('en-US')} row(s) from ${path}`;
    emit({ type: 'step.start', step: 'restore-load', title, statements: [...plan.create, plan.copy], locks: [{ mode: 'ACCESS EXCLUSIVE', on: partQ, why: 'a new table, not in use' }] });
    const t1 = Date.now();
    await setArchivePhase(client, journal.migrationId, { ...base, phase: 'restoring' });
    const names = manifest.columns.map((c) => c.name);
    const problem = await withTransaction(client, { settings: [['statement_timeout', '0']] }, async () => {
      for (const s of plan.create) await client.query(s);
      const read = await loadDataFile(client, path, partQ, columnList(names), (p) =>
        emit({ type: 'transfer', step: 'restore', what: 'load', rows: p.rows, totalRows: manifest.rows, bytes: p.bytes, totalBytes: manifest.data.bytes }));
      if (read.sha256 !== manifest.data.sha256) throw new Error(`the file changed while it was loaded (SHA-256 ${read.sha256})`);
      const sums = await rowsChecksum(client, partQ, names, plan.versionNum);
      if (sums.rows !== manifest.rows || sums.checksum !== manifest.checksum)
        throw new Error(`the loaded rows do not match the archive: ${sums.rows} row(s) with checksum ${sums.checksum}, the manifest says ${manifest.rows} with ${manifest.checksum}`);
      await setArchivePhase(client, journal.migrationId, { ...base, phase: 'loaded', rows: sums.rows, checksum: sums.checksum });
      return null;
    }).catch((e) => e as Error);
    if (problem) {
      const error: PersonError = { message: `loading ${path} failed: ${problem.message}`, unchanged: `the transaction was rolled back: ${partQ} was not created, the table is as it was`, todo: `fix the cause, then run ${again}` };
      emit({ type: 'step.fail', step: 'restore-load', title, error });
      return fail(error);
    }
    emit({ type: 'info', message: `loaded: ${manifest.rows.toLocaleString('en-US')} row(s), checksum ${manifest.checksum}, as in the manifest` });
    emit({ type: 'step.done', step: 'restore-load', title, ms: Date.now() - t1 });
  }

  // 2. the program's new rows out of the default partition, and the attach: one short transaction under lock_timeout
  const title = `Attach ${plan.partition.name} to ${cfg.table}, ${who(manifest)}'s rows moved out of the default partition`;
  emit({ type: 'step.start', step: 'restore-attach', title, statements: plan.attach.statements, locks: plan.attach.locks });
  const t2 = Date.now();
  let moved = 0;
  try {
    await lockedTransaction(client, { policy: ctx.retry, emit, step: 'restore-attach', relations: plan.attach.locks.map((l) => l.on) }, async (exec) => {
      for (const s of plan.attach.statements) {
        const r = await exec(s);
        if (s.startsWith('WITH moved AS')) moved = r.rowCount ?? 0;
      }
      await setArchivePhase(client, journal.migrationId, { ...base, phase: 'restored' });
    });
  } catch (e) {
    const f = transactionFailure(e, 'attaching the restored partition failed', `the transaction was rolled back: ${partQ} is loaded and checked but not attached; the table is as it was`, again);
    emit({ type: 'step.fail', step: 'restore-attach', title, error: f.error });
    return fail(f.error);
  }
  emit({ type: 'step.done', step: 'restore-attach', title, ms: Date.now() - t2 });
  // a fresh partition with rows: the planner gets its statistics now (autovacuum may take a while)
  await client.query(`ANALYZE ${partQ}`);
  await journal.finish(logId, 'done', undefined, { rows: manifest.rows, moved });
  return {
    ok: true, exitCode: EXIT.ok,
    summary: `${who(manifest)} restored: ${manifest.rows.toLocaleString('en-US')} row(s) from ${path} (count and checksum as archived) in the partition ${plan.partition.name}` +
      `${moved ? `, with ${moved} row(s) written since the archive moved out of the default partition` : ''}`,
    data: { program: manifest.key.value, rows: manifest.rows, moved, partition: plan.partition.name },
  };
}
