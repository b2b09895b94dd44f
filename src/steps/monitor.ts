import { EXIT } from '../events.js';
import { readPartitionSizes } from '../monitor/partitionSizes.js';
import { DEFAULT_ROWS_HINT } from '../monitor/sizeTable.js';
import type { StepContext, StepResult } from './context.js';

/**
 * `partwise monitor` headless: reads the partition sizes once (one catalog query) and prints them. The Ink monitor
 * screen calls readPartitionSizes itself at its refresh interval. `print` is false with --json: the rows are the
 * result's data, printed once.
 */
export async function runMonitor(ctx: StepContext, opts: { print: boolean } = { print: true }): Promise<StepResult> {
  const sizes = await readPartitionSizes(ctx.client, ctx.cfg);
  if (opts.print) ctx.emit({ type: 'partition.sizes', sizes });
  if (!sizes.table) {
    return { ok: false, exitCode: EXIT.failed, summary: `no partitioned table ${ctx.cfg.schema}.${ctx.cfg.newTable} (nor a partitioned ${ctx.cfg.schema}.${ctx.cfg.table}): run partwise create`, data: sizes };
  }
  if (sizes.defaultHasRows) {
    // a warning, not a failure: the data is safe, it is only in the wrong place
    return { ok: true, exitCode: EXIT.ok, summary: `${sizes.totals.partitions} partition(s); ${DEFAULT_ROWS_HINT}`, data: sizes };
  }
  return { ok: true, exitCode: EXIT.ok, summary: `${sizes.totals.partitions} partition(s), the default partition is empty`, data: sizes };
}
