import type { Config } from '../config/config.js';
import type { RetryPolicy } from '../exec/retry.js';
import type { DemoOptions } from './connectForCommand.js';
import { intFlag, UsageError, type Flags } from './args.js';

export interface ResolvedOptions {
  cfg: Config;
  demo: DemoOptions;
  retry: RetryPolicy;
}

/**
 * Flags over partwise.config.json over the defaults, for the headless commands and the app alike. Throws UsageError
 * or ConfigError (exit 2) with the option and the problem.
 */
export async function resolveOptions(flags: Flags): Promise<ResolvedOptions> {
  const [{ resolveConfig, readConfigFile }, { checkGivenName }] = await Promise.all([import('../config/config.js'), import('../config/names.js')]);
  const fileInput = readConfigFile(flags.config ?? 'partwise.config.json', flags.config !== undefined);
  const fromFlags = {
    schema: flags.schema, table: flags.table, key: flags.key, lookup: flags.lookup, lookupSchema: flags['lookup-schema'],
    lookupKey: flags['lookup-key'], lookupLabel: flags['lookup-label'], newTable: flags['new-table'], oldTable: flags['old-table'],
    partitionName: flags['partition-name'], defaultPartition: flags['default-partition'],
    lockTimeoutMs: intFlag(flags, 'lock-timeout', 10, 60_000), lockRetries: intFlag(flags, 'lock-retries', 1, 100),
    autoPartitionTrigger: flags['no-auto-partition'] ? false : undefined,
    publishViaRoot: flags['publish-via-root'] ? true : undefined,
  };
  const cfg = resolveConfig({ ...fileInput, ...Object.fromEntries(Object.entries(fromFlags).filter(([, v]) => v !== undefined)) });
  const given = [['--schema', cfg.schema], ['--table', cfg.table], ['--key', cfg.key], ['--lookup', cfg.lookup], ['--new-table', cfg.newTable], ['--old-table', cfg.oldTable], ['--default-partition', cfg.defaultPartition]] as const;
  for (const [label, name] of given) {
    const problem = checkGivenName(label, name);
    if (problem) throw new UsageError(problem);
  }
  const demo = { rows: intFlag(flags, 'demo-rows', 100, 100_000_000) ?? 1_000_000, programs: intFlag(flags, 'demo-programs', 1, 5000) ?? 12, reset: Boolean(flags['demo-reset']) };
  const retry = { lockTimeoutMs: cfg.lockTimeoutMs ?? DDL_LOCK_TIMEOUT_MS, attempts: cfg.lockRetries, baseDelayMs: 250, maxDelayMs: 8000 };
  return { cfg, demo, retry };
}

export const DDL_LOCK_TIMEOUT_MS = 1500;
