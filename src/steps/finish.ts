/**
 * partwise finish: once the user is satisfied with the swapped table, removes the capture machinery (both
 * directions). The old table is kept, with the pg_dump command to back it up and the DROP statement to run later,
 * unless --drop-old. After finish, rollback can no longer bring back writes made since (capture is gone).
 */
import { runReported } from '../exec/runReported.js';
import { stepPart } from '../exec/runStep.js';
import { notePart, type PreviewContext, type ScriptPart } from '../plan/script.js';
import type pg from 'pg';
import { takeSnapshot } from '../catalog/snapshot.js';
import { qname } from '../db/quote.js';
import { EXIT } from '../events.js';
import { Journal } from '../journal/journal.js';
import { captureRemovalStatements } from '../move/capture.js';
import type { Step } from '../plan/types.js';
import type { Snapshot } from '../catalog/types.js';
import type { Config } from '../config/config.js';
import type { StepContext, StepResult } from './context.js';
import { isSwapped } from './swap.js';
import { sqlFile } from '../sqlFiles.js';
import { CATALOG_SEARCH_PATH, withTransaction } from '../exec/transaction.js';

export interface FinishOptions {
  dropOld?: boolean;
}

/** Single-quoted for a POSIX shell. */
const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** pg_dump of the old table; connection details without the password (pg_dump asks or reads ~/.pgpass). */
export function backupCommand(conn: pg.ClientConfig, schema: string, table: string): string {
  const parts = ['pg_dump'];
  if (conn.host) parts.push(`--host=${sh(String(conn.host))}`);
  if (conn.port) parts.push(`--port=${conn.port}`);
  if (conn.user) parts.push(`--username=${sh(String(conn.user))}`);
  parts.push(`--table=${sh(qname(schema, table))}`, '--format=custom', `--file=${sh(`${table}.dump`)}`);
  if (conn.database) parts.push(`--dbname=${sh(String(conn.database))}`);
  return parts.join(' ');
}

/** What would stop DROP TABLE of the old table without CASCADE, named for people (sql/catalog/drop_blockers.sql). */
export async function dropBlockers(client: pg.ClientBase, oid: number): Promise<string[]> {
  // with only pg_catalog on the search path the server names every object with its schema
  const r = await withTransaction(client, { readOnly: true, settings: [CATALOG_SEARCH_PATH] }, () => client.query<{ what: string }>(sqlFile('catalog/drop_blockers.sql'), [oid]));
  return r.rows.map((x) => x.what);
}

export async function runFinish(ctx: StepContext, opts: FinishOptions = {}): Promise<StepResult> {
  const { client, cfg, emit } = ctx;
  const snap = await takeSnapshot(client, cfg);
  const O = qname(cfg.schema, cfg.oldTable);
  if (!isSwapped(snap)) {
    if (snap.source?.relkind === 'p' && !snap.old) {
      // already finished with --drop-old, or re-run: only leftovers of capture to remove
    } else {
      return { ok: false, exitCode: EXIT.failed, summary: `finish comes after the swap: ${cfg.schema}.${cfg.table} is not swapped yet (run partwise swap --yes, or partwise rollback --yes to abandon); nothing was changed` };
    }
  }
  if (opts.dropOld && snap.old) {
    const blockers = await dropBlockers(client, snap.old.oid);
    if (blockers.length)
      return {
        ok: false, exitCode: EXIT.checksFailed,
        summary: `finish --drop-old refused: ${blockers.length} object(s) depend on ${cfg.schema}.${cfg.oldTable}: ${blockers.join('; ')}. ` +
          `partwise never drops them for you (no CASCADE): move or drop them yourself, then run partwise finish --yes --drop-old again; ` +
          `or run partwise finish --yes to remove change capture and keep the old table. Nothing was changed`,
        data: { dependents: blockers },
      };
  }
  const journal = await Journal.open(client, cfg);
  const step = finishStep(snap, cfg, opts);
  const logId = await journal.start('finish', { dropOld: Boolean(opts.dropOld) });
  const err = await runReported(client, step, ctx.retry, emit, { unchanged: 'the finish transaction was rolled back: change capture still runs, rollback is still possible', again: 'partwise finish --yes', fix: 'fix the cause (an object that still depends on the old table must go first)' });
  if (err) {
    await journal.finish(logId, 'failed', err.message);
    return { ok: false, exitCode: EXIT.failed, summary: `finish failed: ${err.message}`, data: { error: err } };
  }
  await journal.finish(logId, 'done');
  if (opts.dropOld || !snap.old) {
    return { ok: true, exitCode: EXIT.ok, summary: `finished: change capture removed${opts.dropOld && snap.old ? `, ${cfg.oldTable} dropped` : ''}` };
  }
  const backup = backupCommand(ctx.connection, cfg.schema, cfg.oldTable);
  const drop = `DROP TABLE ${O};`;
  emit({ type: 'info', message: `back up the old table: ${backup}` });
  emit({ type: 'info', message: `then, when you no longer need it: ${drop}` });
  return {
    ok: true, exitCode: EXIT.ok,
    summary: `finished: change capture removed; ${cfg.oldTable} is kept (no longer updated). Back it up with: ${backup} — then drop it with: ${drop}`,
    data: { backupCommand: backup, dropStatement: drop },
  };
}

/** What finish runs: capture removed in both directions, the old table dropped with --drop-old. */
export function finishStep(snap: Snapshot, cfg: Config, opts: FinishOptions): Step {
  const O = qname(cfg.schema, cfg.oldTable);
  const statements = [...captureRemovalStatements(cfg, 'reverse'), ...captureRemovalStatements(cfg, 'forward')];
  if (opts.dropOld && snap.old) statements.push(`DROP TABLE ${O}`); // no CASCADE: whatever still depends on it stops the drop
  return {
    id: 'finish', phase: 'finish', title: opts.dropOld ? `Remove change capture and drop ${cfg.oldTable}` : 'Remove change capture',
    statements, transactional: true, reverse: [], done: false, notes: [],
    locks: [
      { mode: 'ACCESS EXCLUSIVE', on: qname(cfg.schema, cfg.table), why: 'dropping the capture trigger (a moment)' },
      ...(snap.old ? [{ mode: 'ACCESS EXCLUSIVE' as const, on: O, why: opts.dropOld ? 'dropped' : 'dropping leftover triggers' }] : []),
    ],
  };
}

/** finish's preview: the step it would run now (a note when there is nothing to finish). */
export async function finishPreview(p: PreviewContext, opts: FinishOptions): Promise<ScriptPart[]> {
  const snap = await takeSnapshot(p.client, p.cfg);
  if (!isSwapped(snap) && !(snap.source?.relkind === 'p' && !snap.old)) return [notePart('finish comes after the swap: nothing to finish yet')];
  return [stepPart(finishStep(snap, p.cfg, opts), p.retry)];
}
