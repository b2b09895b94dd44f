/**
 * migrate's repair of the copy's structure (src/plan/planCopyRepair.ts): each difference is one short transaction on
 * the copy (not in use yet) under the retry policy, announced with its SQL; the columns whose values the copy lacks
 * are back-filled from the source between the two phases. Nothing is changed when any difference cannot be repaired.
 */
import { takeSnapshot } from '../catalog/snapshot.js';
import type { Snapshot } from '../catalog/types.js';
import { qname } from '../db/quote.js';
import { runAnnounced } from '../exec/runStep.js';
import { captureKeyColumns } from '../move/captureNames.js';
import { backfillColumns } from '../move/drift.js';
import { planCopyRepair, type CopyRepairOptions, type CopyRepairStep } from '../plan/planCopyRepair.js';
import type { Step } from '../plan/types.js';
import type { StepContext } from './context.js';
import type { Config } from '../config/config.js';

export interface RepairResult {
  /** what was repaired, one line each */
  repaired: string[];
  /** what cannot be repaired in place, with what to do; nothing was changed when this is not empty */
  refused: string[];
  /** the catalog after the repair */
  snap: Snapshot;
}

/** One repair as the step runStep runs (the previews show the same). */
export function repairStep(cfg: Config, s: CopyRepairStep): Step {
  return {
    id: `repair:${s.id}`, phase: 'migrate', title: `Repair ${cfg.newTable}: ${s.title}`, statements: s.statements,
    locks: [{ mode: 'ACCESS EXCLUSIVE', on: qname(cfg.schema, cfg.newTable), why: 'changing the copy (not in use yet); copy batches and replays wait' }],
    transactional: true, reverse: [], done: false, notes: [],
  };
}

async function runRepairStep(ctx: StepContext, s: CopyRepairStep): Promise<void> {
  const { cfg, emit } = ctx;
  await runAnnounced(ctx.client, repairStep(cfg, s), ctx.retry, emit);
}

/** Makes the copy's structure the source's again. */
export async function repairCopy(ctx: StepContext, snap: Snapshot, opts: CopyRepairOptions = {}): Promise<RepairResult> {
  const { client, cfg, emit } = ctx;
  const plan = planCopyRepair(snap.source!, snap.target!, cfg, opts);
  if (plan.refused.length) return { repaired: [], refused: plan.refused, snap };
  for (const u of plan.uncarried) emit({ type: 'warn', message: u });
  const steps = [...plan.before, ...plan.after];
  if (steps.length === 0) return { repaired: [], refused: [], snap };
  for (const s of plan.before) {
    emit({ type: 'warn', message: `${s.title}: repairing ${cfg.newTable}` });
    await runRepairStep(ctx, s);
  }
  let now = await takeSnapshot(client, cfg);
  if (plan.backfill.length) {
    const columns = now.source!.columns.filter((c) => plan.backfill.includes(c.name));
    const n = await backfillColumns(client, cfg, columns, captureKeyColumns(now.source!)!);
    emit({ type: 'info', message: `back-filled ${n} row(s) of ${cfg.newTable} with ${columns.map((c) => c.name).join(', ')} from ${cfg.table}` });
  }
  for (const s of plan.after) {
    emit({ type: 'warn', message: `${s.title}: repairing ${cfg.newTable}` });
    await runRepairStep(ctx, s);
  }
  if (plan.after.length) now = await takeSnapshot(client, cfg);
  return { repaired: steps.map((s) => s.title), refused: [], snap: now };
}
