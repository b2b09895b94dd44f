import { partitionSizesSql } from '../../monitor/partitionSizes.js';
import { noPartitionedTable } from '../refusals.js';
import { defineStep } from '../types.js';

/** 7 Monitor: the partition size table from the catalog (the screen refreshes it; headless prints it once). */
export const monitor = defineStep({
  id: 'monitor', command: 'monitor', key: '7', title: 'Monitor',
  summary: 'partition sizes, estimates, scans; flags rows in the default partition (--json: the rows)',
  about: 'Partition sizes from the catalog at the chosen interval (one catalog query per refresh, no lock on the tables). ' +
    'Rows in the default partition mean a missing partition: partwise maintain fixes it.',
  changes: false, confirm: 'none', flags: [],
  options: (flags) => ({ print: !flags.json }),
  refuse(s) {
    if (s.catalog.source === 'p' || s.catalog.target) return null;
    return noPartitionedTable(s, 'monitor');
  },
  keys: [
    { keys: ['+', '-'], label: 'interval', help: 'refresh interval (0.5-10 s)', action: 'interval' },
    { keys: ['r'], label: 'refresh', help: 'refresh now', action: 'refresh' },
    { keys: ['o'], label: 'sort', help: 'cycle the sort column', action: 'sort' },
    { keys: ['c'], label: 'count', help: 'exact row count of the selected partition', action: 'count' },
    { keys: ['a'], label: 'archive', help: 'archive the selected program\'s partition to a file in the current directory (type its name)', action: 'archive' },
  ],
  async preview({ cfg }) {
    return [{ title: 'one catalog query per refresh ($1 the source, $2 the new table)', statements: [partitionSizesSql(cfg).trim().replace(/;$/, '')], locks: [], notes: [] }];
  },
  run: async (ctx, o) => (await import('../../steps/monitor.js')).runMonitor(ctx, o),
});
