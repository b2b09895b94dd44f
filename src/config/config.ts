import { readFileSync, existsSync } from 'node:fs';
import { z } from 'zod';

/** The most copy workers migrate runs (each one session). */
export const MAX_WORKERS = 32;

/** What partwise operates on. Defaults are the first user's case (Supabase, petri_observations by program_id). */
export const ConfigSchema = z
  .object({
    schema: z.string().min(1).default('public'),
    table: z.string().min(1).default('petri_observations'),
    key: z.string().min(1).default('program_id'),
    lookup: z.string().min(1).default('pilot_programs'),
    lookupSchema: z.string().min(1).optional(),
    lookupKey: z.string().min(1).default('program_id'),
    lookupLabel: z.string().min(1).default('name'),
    /** defaults to `<table>_partitioned` */
    newTable: z.string().min(1).optional(),
    /** defaults to `<table>_old` */
    oldTable: z.string().min(1).optional(),
    partitionName: z
      .string()
      .min(1)
      .default('petri_obs_prog_{key}')
      .refine((s) => s.includes('{key}'), { message: 'must contain the placeholder {key}' }),
    defaultPartition: z.string().min(1).default('petri_obs_default'),
    /** lock_timeout for each DDL attempt, milliseconds; default 1000 for swap and rollback, 1500 for other steps */
    lockTimeoutMs: z.number().int().positive().max(60_000).optional(),
    /** attempts for each DDL statement that times out on a lock */
    lockRetries: z.number().int().positive().max(100).default(10),
    autoPartitionTrigger: z.boolean().default(true),
    /** the swap sets publish_via_partition_root = true on the publications of the table that have it off */
    publishViaRoot: z.boolean().default(false),
    /** migrate's copy workers: sessions copying disjoint parts of the table at once (migrate --workers overrides it) */
    workers: z.number().int().min(1).max(MAX_WORKERS).default(1),
  })
  .strict();

export type ConfigInput = z.input<typeof ConfigSchema>;
export type Config = Required<Omit<z.output<typeof ConfigSchema>, 'lookupSchema' | 'lockTimeoutMs'>> & { lookupSchema: string; lockTimeoutMs?: number };

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Fills derived defaults (new/old table names, lookup schema). */
export function resolveConfig(input: ConfigInput): Config {
  const parsed = ConfigSchema.safeParse(input);
  if (!parsed.success) throw new ConfigError(formatZodError(parsed.error, 'options'));
  const c = parsed.data;
  return {
    ...c,
    lookupSchema: c.lookupSchema ?? c.schema,
    newTable: c.newTable ?? `${c.table}_partitioned`,
    oldTable: c.oldTable ?? `${c.table}_old`,
  };
}

export function formatZodError(err: z.ZodError, where: string): string {
  return err.issues
    .map((i) => {
      const field = i.path.length ? i.path.join('.') : '(root)';
      return `${where}: field "${field}": ${i.message}`;
    })
    .join('\n');
}

/** Reads partwise.config.json (if present); names the field and the problem when invalid. */
export function readConfigFile(path: string, required: boolean): ConfigInput {
  if (!existsSync(path)) {
    if (required) throw new ConfigError(`config file ${path} does not exist`);
    return {};
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(e as Error).message}`);
  }
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(formatZodError(parsed.error, path));
  return raw as ConfigInput;
}
