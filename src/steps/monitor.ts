import { EXIT } from '../events.js';
import { readPartitionSizes } from '../monitor/partitionSizes.js';
import { archivedPrograms } from '../archive/records.js';
import { ARCHIVED_DEFAULT_HINT, DEFAULT_ROWS_HINT } from '../monitor/sizeTable.js';
import type { StepContext, StepResult } from './context.js';

/**
 * `partwise monitor` headless: reads the partition sizes once (one catalog query) and prints them. The Ink monitor
 * screen calls readPartitionSizes itself at its refresh interval. `print` is false with --json: the rows are the
 * result's data, printed once.
 */
export async function runMonitor(ctx: StepContext, opts: { print: boolean } = { print: true }): Promise<StepResult> {
  const sizes = await readPartitionSizes(ctx.client, ctx.cfg);
  sizes.archived = (await archivedPrograms(ctx.client, ctx.cfg)).map(({ program, label, path }) => ({ program, label, path }));
  if (opts.print) ctx.emit({ type: 'partition.sizes', sizes });
  if (!sizes.table) {
    return { ok: false, exitCode: EXIT.failed, summary: `no partitioned table ${ctx.cfg.schema}.${ctx.cfg.newTable} (nor a partitioned ${ctx.cfg.schema}.${ctx.cfg.table}): run partwise create`, data: sizes };
  }
  const archived = sizes.archived!.length ? `; ${sizes.archived!.length} program(s) archived (${sizes.archived!.map((a) => a.label ?? a.program).join(', ')}): their new rows go to the default partition` : '';
  if (sizes.defaultHasRows) {
    // a warning, not a failure: the data is safe, it is only in the wrong place
    return { ok: true, exitCode: EXIT.ok, summary: `${sizes.totals.partitions} partition(s)${archived}; ${sizes.archived!.length ? ARCHIVED_DEFAULT_HINT : DEFAULT_ROWS_HINT}`, data: sizes };
  }
  return { ok: true, exitCode: EXIT.ok, summary: `${sizes.totals.partitions} partition(s), the default partition is empty${archived}`, data: sizes };
}
