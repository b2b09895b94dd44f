/**
 * partwise verify --data: drains the change log, checks that capture never stopped since it was installed, then
 * compares every program's row count and checksum of every stored column on both sides in one snapshot
 * (src/move/checksum.ts). Exit 3 on any difference; the result is journaled for swap with the structure it saw
 * (src/move/structure.ts), which the swap compares again under its locks.
 */
import { takeSnapshot } from '../catalog/snapshot.js';
import type { CheckItem } from '../events.js';
import { EXIT } from '../events.js';
import { Journal } from '../journal/journal.js';
import { captureIntegrity, drainLog, ReplayBlocked } from '../move/capture.js';
import { captureKeyColumns } from '../move/captureNames.js';
import { compareData, recordDataVerification, type DataComparison } from '../move/checksum.js';
import { structureFingerprint } from '../move/structure.js';
import { planCopyRepair, repairSummary } from '../plan/planCopyRepair.js';
import type { StepContext, StepResult } from './context.js';

const DRAIN_LIMIT = 10_000;

/** The repair every structural or capture problem names. */
export const REPAIR = 'run partwise migrate (it repairs the copy), then partwise verify --data';

function dataItems(c: DataComparison, ctx: StepContext): CheckItem[] {
  const { cfg } = ctx;
  const items: CheckItem[] = [];
  if (c.missingColumns.length)
    items.push({
      id: 'data:columns', status: 'fail', title: 'Columns compared',
      reason: `${cfg.newTable} lacks column(s) ${c.missingColumns.join(', ')} of ${cfg.table} (added after create): their values would be lost at the swap`,
      todo: REPAIR,
    });
  for (const p of c.programs) {
    const name = p.key === null ? `rows with NULL ${cfg.key}` : p.label ? `${p.label} (${p.key})` : p.key;
    items.push(p.ok
      ? { id: `data:${p.key}`, status: 'ok', title: name, reason: `${p.sourceRows} row(s), checksums equal` }
      : {
          id: `data:${p.key}`, status: 'fail', title: name,
          reason: p.key === null
            ? `${p.sourceRows} row(s) have no ${cfg.key}: they cannot be copied into the partitioned table`
            : `source ${p.sourceRows} row(s), ${cfg.newTable} ${p.targetRows} row(s); checksums ${p.sourceSum === p.targetSum ? 'equal' : 'differ'}`,
          todo: p.key === null ? `give them a ${cfg.key} or delete them` : 'run partwise migrate again (it re-copies nothing twice and replays pending changes), then verify --data again',
          details: p.sample.map((s) => `${s.side === 'source' ? `only or different in ${cfg.table}` : `only or different in ${cfg.newTable}`}: ${s.key}`),
        });
  }
  return items;
}

export async function runVerifyData(ctx: StepContext): Promise<StepResult> {
  const { client, cfg, emit } = ctx;
  const snap = await takeSnapshot(client, cfg);
  if (!snap.source || snap.source.relkind !== 'r')
    return { ok: false, exitCode: EXIT.failed, summary: `${cfg.schema}.${cfg.table} is not the original table (missing, or already swapped): verify --data compares before the swap` };
  if (!snap.target) return { ok: false, exitCode: EXIT.failed, summary: `${cfg.schema}.${cfg.newTable} does not exist: run partwise create and partwise migrate first` };
  if (!captureKeyColumns(snap.source))
    return { ok: false, exitCode: EXIT.checksFailed, summary: `${cfg.schema}.${cfg.table} has no PRIMARY KEY or NOT NULL UNIQUE constraint: rows cannot be matched` };
  const journal = await Journal.open(client, cfg);
  const logId = await journal.start('verify-data');
  // taken before anything is compared: a change after it shows as a difference at the swap
  const fingerprint = structureFingerprint(snap.source, snap.target);

  // drain first: what is still pending at the snapshot is left out on both sides, the less the better
  let replayed: number;
  try {
    replayed = await drainLog(client, snap, cfg, 'forward', { limit: DRAIN_LIMIT, maxRounds: 100, signal: ctx.signal });
  } catch (e) {
    if (!(e instanceof ReplayBlocked)) throw e;
    emit({ type: 'verify', item: { id: 'replay', status: 'fail', title: 'Captured changes', reason: e.message } });
    await journal.finish(logId, 'failed', e.message);
    return { ok: false, exitCode: EXIT.checksFailed, summary: e.message };
  }
  const capture = await captureIntegrity(client, cfg, 'forward');
  const repair = planCopyRepair(snap.source, snap.target, cfg);
  const structure = [...repairSummary({ ...repair, refused: [] }), ...repair.refused];
  const items: CheckItem[] = [];
  if (repair.uncarried.length)
    items.push({ id: 'uncarried', status: 'warn', title: 'Not carried to the partitioned table', reason: repair.uncarried.join('; '), todo: 'partwise check says what to do; the swap refuses until then' });
  if (structure.length)
    items.push({
      id: 'structure', status: 'fail', title: 'Structure of the copy',
      reason: `${structure.length} difference(s) from ${cfg.table}: the swap would lose or undo them`,
      todo: repair.refused.length ? 'see each difference' : REPAIR, details: structure,
    });
  if (capture.length)
    items.push({ id: 'capture', status: 'fail', title: 'Change capture', reason: capture.join('; '), todo: `${REPAIR} (migrate re-copies every program whose checksum differs)` });
  const c = await compareData(client, snap, cfg);
  items.push(...dataItems(c, ctx));
  for (const item of items) emit({ type: 'verify', item });
  const ok = c.ok && capture.length === 0 && structure.length === 0;
  await recordDataVerification(client, journal.migrationId, { ...c, ok }, fingerprint);
  const badPrograms = c.programs.filter((p) => !p.ok);
  const problems = [
    ...capture,
    ...structure,
    ...(c.missingColumns.length ? [`${cfg.newTable} lacks column(s) ${c.missingColumns.join(', ')}`] : []),
    ...(badPrograms.length ? [`${badPrograms.length} program(s) differ: ${badPrograms.map((p) => p.label ?? p.key ?? `NULL ${cfg.key}`).join(', ')}`] : []),
  ];
  await journal.finish(logId, ok ? 'done' : 'failed', ok ? undefined : problems.join('; '), { programs: c.programs.length, rows: c.rowsCompared, pending: c.pending, replayed });
  const pendingNote = c.pending ? `; ${c.pending} change(s) still pending at the snapshot were left out` : '';
  return {
    ok,
    exitCode: ok ? EXIT.ok : EXIT.checksFailed,
    summary: ok
      ? `data verified: ${c.programs.length} program(s), ${c.rowsCompared} row(s), every column, counts and checksums equal${pendingNote}`
      : `${problems.join('; ')}${pendingNote}${capture.length || c.missingColumns.length || structure.length > repair.refused.length ? `. To repair: ${REPAIR}` : ''}`,
    data: c,
  };
}
