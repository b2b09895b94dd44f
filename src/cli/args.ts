import { parseArgs } from 'node:util';

/** Every flag partwise knows; the README documents each one. */
export const OPTIONS = {
  url: { type: 'string' },
  json: { type: 'boolean' },
  yes: { type: 'boolean', short: 'y' },
  config: { type: 'string' },
  schema: { type: 'string' },
  table: { type: 'string' },
  key: { type: 'string' },
  lookup: { type: 'string' },
  'lookup-schema': { type: 'string' },
  'lookup-key': { type: 'string' },
  'lookup-label': { type: 'string' },
  'new-table': { type: 'string' },
  'old-table': { type: 'string' },
  'partition-name': { type: 'string' },
  'default-partition': { type: 'string' },
  'lock-timeout': { type: 'string' },
  'lock-retries': { type: 'string' },
  'no-auto-partition': { type: 'boolean' },
  'publish-via-root': { type: 'boolean' },
  'demo-rows': { type: 'string' },
  'demo-programs': { type: 'string' },
  'demo-reset': { type: 'boolean' },
  // data-moving steps
  program: { type: 'string' },
  rows: { type: 'string' },
  keep: { type: 'boolean' },
  mode: { type: 'string' },
  'batch-size': { type: 'string' },
  'max-rate': { type: 'string' },
  'sleep-ms': { type: 'string' },
  'max-latency-ratio': { type: 'string' },
  data: { type: 'boolean' },
  'drop-old': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

export const COMMANDS = [
  'check', 'plan', 'create', 'verify', 'status',
  'test-insert', 'migrate', 'pause', 'resume', 'swap', 'rollback', 'finish', 'maintain', 'monitor', 'watch', 'demo', 'help',
] as const;
export type Command = (typeof COMMANDS)[number];

export type Flags = { [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface ParsedArgs {
  command: Command | null;
  flags: Flags;
  /** `demo stop`: the demo command's one action */
  action?: 'stop';
}

export function parseCommandLine(argv: string[]): ParsedArgs {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ''));
  }
  const [cmd, ...rest] = parsed.positionals;
  if (cmd === 'demo') {
    if (rest.length !== 1 || rest[0] !== 'stop') throw new UsageError(`partwise demo takes one action: partwise demo stop${rest.length ? ` (not: ${rest.join(' ')})` : ''}`);
    return { command: 'demo', flags: parsed.values as Flags, action: 'stop' };
  }
  if (rest.length) throw new UsageError(`unexpected argument: ${rest[0]}`);
  if (cmd !== undefined && !(COMMANDS as readonly string[]).includes(cmd)) throw new UsageError(`unknown command: ${cmd}`);
  return { command: (cmd as Command | undefined) ?? null, flags: parsed.values as Flags };
}

export function intFlag(flags: Flags, name: keyof Flags, min: number, max: number): number | undefined {
  const v = flags[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !/^[0-9]+$/.test(v)) throw new UsageError(`--${name} takes a whole number`);
  const n = Number(v);
  if (n < min || n > max) throw new UsageError(`--${name} must be between ${min} and ${max}`);
  return n;
}

/** A latency ratio as text (`2`, `1.5`): the number when it is from 1.1 to 100, a problem otherwise. */
export function parseRatio(v: string): number | 'not a number' | 'out of range' {
  if (!/^[0-9]+(\.[0-9]+)?$/.test(v)) return 'not a number';
  const n = Number(v);
  return n < 1.1 || n > 100 ? 'out of range' : n;
}

/** A ratio flag such as --max-latency-ratio 2: a number from 1.1 to 100. */
export function ratioFlag(flags: Flags, name: keyof Flags): number | undefined {
  const v = flags[name];
  if (v === undefined) return undefined;
  const r = typeof v === 'string' ? parseRatio(v) : 'not a number';
  if (r === 'not a number') throw new UsageError(`--${name} takes a number such as 2 or 1.5`);
  if (r === 'out of range') throw new UsageError(`--${name} must be between 1.1 and 100`);
  return r;
}

export const HELP = `partwise — turn a live PostgreSQL table into a LIST-partitioned table, step by step

Usage: partwise [command] [options]

With no command on a terminal, partwise opens the checklist app.

Commands (headless; --json prints one JSON object per line: events, then a result):
  check          prerequisites, each ok / warn / fail with what to do
  plan           the whole plan as one reviewable SQL script
  create         create the partitioned table, its partitions and indexes (needs --yes)
  verify         compare the created structure with the source (--data: rows and checksums)
  status         where the migration stands, from the journal
  test-insert    copy a sample of one program and compare query plans
                 (--program ID|LABEL, default the largest; --rows 100; --keep leaves the sample)
  migrate        copy the rows with change capture (--mode one|all|gradual)
                 (--batch-size N, --max-rate ROWS_PER_S, --sleep-ms N; --max-latency-ratio R
                 slows the copy while the slowest tenth of probe commits take over R times
                 their time before the copy)
  pause, resume  pause / resume a running migration from any terminal
  swap           swap the partitioned table in by rename (needs --yes)
  rollback       undo, before or after the swap, losing no write (needs --yes)
  finish         remove the capture machinery, keep (or --drop-old) the old table
  maintain       create missing partitions, move rows out of the default partition
  monitor        partition sizes, estimates, scans; flags rows in the default partition (--json: the rows)
  watch          read-only view of a migration another terminal runs
  demo stop      stop the embedded rehearsal database (it keeps running for every partwise
                 process until then)

Connection (first found wins):
  --url URL                postgres://user:password@host:port/db?sslmode=require
  DATABASE_URL             the same, from the environment
  PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE and ~/.pgpass
  none of these            an embedded PostgreSQL 17 with a demo dataset (rehearsal)

Table options (defaults: the first user's case; also read from partwise.config.json):
  --schema public  --table petri_observations  --key program_id
  --lookup pilot_programs  --lookup-schema <schema>  --lookup-key program_id  --lookup-label name
  --new-table <table>_partitioned  --old-table <table>_old
  --partition-name 'petri_obs_prog_{key}'  --default-partition petri_obs_default
  --config FILE            config file (default ./partwise.config.json when present)
  --no-auto-partition      no trigger creating partitions for new lookup rows
  --publish-via-root       the swap sets publish_via_partition_root = true on the table's publications (their
                           subscribers keep receiving its changes under its name; see partwise check)

Execution:
  --yes, -y                run changes without asking (required when not interactive)
  --json                   NDJSON events and result
  --lock-timeout MS        lock_timeout for each DDL attempt (default 1500)
  --lock-retries N         attempts per DDL step (default 10)

Embedded rehearsal database (one server per data directory, shared by every partwise process;
PARTWISE_EMBEDDED_DIR moves it):
  --demo-rows N (1000000)  --demo-programs N (12)  --demo-reset

Exit codes: 0 ok, 1 failed, 2 usage error, 3 checks failed
`;
