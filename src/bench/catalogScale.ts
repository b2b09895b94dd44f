/**
 * Item 4: catalog and screen cost at scale. A second database with the demo at `partitions` programs, created
 * (one partition per program plus the default) and filled with a plain INSERT ... SELECT (the copy is measured
 * elsewhere), analyzed; then the monitor's refresh query (readPartitionSizes) median of 20, and one frame of the
 * monitor and migrate screens (frames.ts) median of 20.
 */
import { takeSnapshot } from '../catalog/snapshot.js';
import { ident, qname } from '../db/quote.js';
import { copiedColumns } from '../move/captureNames.js';
import { readPartitionSizes } from '../monitor/partitionSizes.js';
import type { StepContext } from '../steps/context.js';
import { median, timeRuns } from '../stats.js';

export interface CatalogScale {
  partitions: number;
  monitorQueryMs: number;
  /** at 80x24, the size partwise must work at */
  monitorFrameMs: number;
  migrateFrameMs: number;
  /** at 160x48, a large terminal: more visible rows, more to lay out */
  monitorFrameLargeMs: number;
  migrateFrameLargeMs: number;
}

const LARGE = { width: 160, height: 48 };

/** ctx: a fresh database seeded and created with `programs` programs (setup.ts prepareDataset). */
export async function measureCatalogScale(ctx: StepContext, runs = 20): Promise<CatalogScale> {
  const { client, cfg } = ctx;
  const snap = await takeSnapshot(client, cfg);
  const cols = copiedColumns(snap, 'forward').map((c) => ident(c.name)).join(', ');
  await client.query(`INSERT INTO ${qname(cfg.schema, cfg.newTable)} (${cols}) OVERRIDING SYSTEM VALUE SELECT ${cols} FROM ONLY ${qname(cfg.schema, cfg.table)} WHERE ${ident(cfg.key)} IS NOT NULL`);
  await client.query(`ANALYZE ${qname(cfg.schema, cfg.newTable)}`);

  await readPartitionSizes(client, cfg); // warm-up: catalog caches of this session
  const queryMs = median(await timeRuns(runs, () => readPartitionSizes(client, cfg)));
  const sizes = await readPartitionSizes(client, cfg);

  // loaded only now, after main.ts chose the production React build
  const frames = await import('./frames.js');
  const totals = new Map(sizes.rows.map((r) => [r.keyValue, r.estimatedRows ?? 0]));
  const programs = snap.lookupRows.map((r) => ({ key: r.key, label: r.label, total: Math.round(totals.get(r.key) ?? 0) }));
  return {
    partitions: sizes.rows.length,
    monitorQueryMs: queryMs,
    monitorFrameMs: frames.monitorFrameMs(sizes, runs).medianMs,
    migrateFrameMs: frames.migrateFrameMs(cfg, programs, runs).medianMs,
    monitorFrameLargeMs: frames.monitorFrameMs(sizes, runs, LARGE).medianMs,
    migrateFrameLargeMs: frames.migrateFrameMs(cfg, programs, runs, LARGE).medianMs,
  };
}
