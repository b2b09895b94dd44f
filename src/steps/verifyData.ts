/**
 * partwise verify --data: drains the change log, then compares every program's row count and checksum on both
 * sides in one snapshot (src/move/checksum.ts). Exit 3 on any mismatch; the result is journaled for swap.
 */
import { takeSnapshot } from '../catalog/snapshot.js';
import { EXIT } from '../events.js';
import { Journal } from '../journal/journal.js';
import { drainLog } from '../move/capture.js';
import { captureKeyColumns } from '../move/captureNames.js';
import { compareData, recordDataVerification } from '../move/checksum.js';
import type { StepContext, StepResult } from './context.js';

const DRAIN_LIMIT = 10_000;

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

  // drain first: what is still pending at the snapshot is left out on both sides, the less the better
  const replayed = await drainLog(client, snap, cfg, 'forward', { limit: DRAIN_LIMIT, maxRounds: 100, signal: ctx.signal });
  const c = await compareData(client, snap, cfg);
  for (const p of c.programs) {
    const name = p.key === null ? `rows with NULL ${cfg.key}` : p.label ? `${p.label} (${p.key})` : p.key;
    emit({
      type: 'verify',
      item: p.ok
        ? { id: `data:${p.key}`, status: 'ok', title: name, reason: `${p.sourceRows} row(s), checksums equal` }
        : {
            id: `data:${p.key}`, status: 'fail', title: name,
            reason: p.key === null
              ? `${p.sourceRows} row(s) have no ${cfg.key}: they cannot be copied into the partitioned table`
              : `source ${p.sourceRows} row(s), ${cfg.newTable} ${p.targetRows} row(s); checksums ${p.sourceSum === p.targetSum ? 'equal' : 'differ'}`,
            todo: p.key === null ? `give them a ${cfg.key} or delete them` : 'run partwise migrate again (it re-copies nothing twice and replays pending changes), then verify --data again',
            details: p.sample.map((s) => `${s.side === 'source' ? `only or different in ${cfg.table}` : `only or different in ${cfg.newTable}`}: ${s.key}`),
          },
    });
  }
  await recordDataVerification(client, journal.migrationId, c);
  const bad = c.programs.filter((p) => !p.ok);
  await journal.finish(logId, c.ok ? 'done' : 'failed', c.ok ? undefined : `${bad.length} program(s) differ`, { programs: c.programs.length, rows: c.rowsCompared, pending: c.pending, replayed });
  const pendingNote = c.pending ? `; ${c.pending} change(s) still pending at the snapshot were left out` : '';
  return {
    ok: c.ok,
    exitCode: c.ok ? EXIT.ok : EXIT.checksFailed,
    summary: c.ok
      ? `data verified: ${c.programs.length} program(s), ${c.rowsCompared} row(s), counts and checksums equal${pendingNote}`
      : `${bad.length} program(s) differ: ${bad.map((p) => p.label ?? p.key ?? `NULL ${cfg.key}`).join(', ')}${pendingNote}`,
    data: c,
  };
}
