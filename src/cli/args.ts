import { parseArgs } from 'node:util';
import { STEP_LIST, stepByCommand } from '../registry/index.js';
import { UsageError } from '../registry/flags.js';
import type { FlagValues } from '../registry/types.js';

export { UsageError, intFlag } from '../registry/flags.js';

/** The flags every command takes (connection, table, execution, rehearsal); each step declares its own besides. */
export const GLOBAL_OPTIONS = {
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
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

type ParseOption = { type: 'string' | 'boolean'; short?: string };

/** Every flag of every command: the global ones and each step's own. */
export const OPTIONS: Record<string, ParseOption> = (() => {
  const all: Record<string, ParseOption> = { ...GLOBAL_OPTIONS };
  for (const s of STEP_LIST) for (const f of s.flags) all[f.name] = { type: f.type, ...(f.short ? { short: f.short } : {}) };
  return all;
})();

/** Commands that are not steps: the read-only app view, the rehearsal server's `demo stop`, and help. */
export const EXTRA_COMMANDS = ['watch', 'demo', 'help'] as const;
export const COMMANDS: readonly string[] = [...STEP_LIST.map((s) => s.command), ...EXTRA_COMMANDS];
export type Command = string;

type Typed<T> = { [K in keyof T]?: T[K] extends { type: 'boolean' } ? boolean : string };
export type Flags = Typed<typeof GLOBAL_OPTIONS> & FlagValues;

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
  if (cmd !== undefined && !COMMANDS.includes(cmd)) throw new UsageError(`unknown command: ${cmd}`);
  const flags = parsed.values as Flags;
  // a step's flags belong to that step: `--mode` on swap is a mistake, not something to ignore
  const step = cmd === undefined ? undefined : stepByCommand(cmd);
  for (const name of Object.keys(flags)) {
    if (name in GLOBAL_OPTIONS) continue;
    if (!step || !step.flags.some((f) => f.name === name)) {
      const owners = STEP_LIST.filter((s) => s.flags.some((f) => f.name === name)).map((s) => s.command);
      throw new UsageError(`--${name} is not an option of ${cmd ?? 'the app'} (it belongs to ${owners.join(', ')}); see partwise ${cmd ?? ''}${cmd ? ' ' : ''}--help`);
    }
  }
  return { command: (cmd as Command | undefined) ?? null, flags };
}
