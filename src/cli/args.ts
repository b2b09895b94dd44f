import { parseArgs } from 'node:util';
import { STEP_LIST, stepByCommand } from '../registry/index.js';
import { UsageError } from '../registry/flags.js';
import type { FlagValues } from '../registry/types.js';
import { nearest } from './suggest.js';

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

/** The long flags a command takes: the global ones and, for a step, its own. */
export function flagsOf(command: string | undefined): string[] {
  const step = command === undefined ? undefined : stepByCommand(command);
  return [...Object.keys(GLOBAL_OPTIONS), ...(step ? step.flags.map((f) => f.name) : [])];
}

const helpFor = (cmd: string | undefined) => `see partwise ${cmd ? `${cmd} ` : ''}--help`;

/** A flag no command knows: the nearest one this command takes, else where to look. */
function unknownFlag(raw: string, cmd: string | undefined): UsageError {
  const where = cmd ? ` for ${cmd}` : '';
  if (!raw.startsWith('--')) return new UsageError(`unknown option ${raw}${where}; ${helpFor(cmd)}`);
  const near = nearest(raw.slice(2), flagsOf(cmd));
  return new UsageError(`unknown option ${raw}${where}${near ? `; did you mean --${near}?` : ''} (${helpFor(cmd)})`);
}

/** Node's parseArgs messages for a flag's value, in plain words. */
function valueProblem(e: Error): UsageError {
  const m = /'(?:-\w, )?--([\w-]+)/.exec(e.message);
  const flag = m ? `--${m[1]}` : 'an option';
  if (/argument missing|ambiguous/.test(e.message)) return new UsageError(`${flag} takes a value (one that starts with "-" is written ${flag}=-value)`);
  if (/does not take an argument/.test(e.message)) return new UsageError(`${flag} takes no value`);
  return new UsageError(e.message.split('\n')[0]!.replace(/^TypeError \[[A-Z_]+\]: /, ''));
}

export function parseCommandLine(argv: string[]): ParsedArgs {
  // a first pass that accepts anything, to name the command and every unknown flag in plain words
  const { tokens } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: false, tokens: true });
  const positionals = tokens.flatMap((t) => (t.kind === 'positional' ? [t.value] : []));
  const context = positionals.find((p) => COMMANDS.includes(p));
  for (const t of tokens) if (t.kind === 'option' && !(t.name in OPTIONS)) throw unknownFlag(t.rawName, context);
  const first = positionals[0];
  if (first !== undefined && !COMMANDS.includes(first)) {
    const near = nearest(first, COMMANDS);
    throw new UsageError(`unknown command: ${first}${near ? `; did you mean ${near}?` : ''} (see partwise --help)`);
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    throw valueProblem(e as Error);
  }
  const [cmd, ...rest] = parsed.positionals;
  if (cmd === 'demo') {
    if (rest.length !== 1 || rest[0] !== 'stop') throw new UsageError(`partwise demo takes one action: partwise demo stop${rest.length ? ` (not: ${rest.join(' ')})` : ''}`);
    return { command: 'demo', flags: parsed.values as Flags, action: 'stop' };
  }
  if (rest.length) throw new UsageError(`unexpected argument: ${rest[0]}`);
  const flags = parsed.values as Flags;
  // a step's flags belong to that step: `--mode` on swap is a mistake, not something to ignore
  const step = cmd === undefined ? undefined : stepByCommand(cmd);
  for (const name of Object.keys(flags)) {
    if (name in GLOBAL_OPTIONS) continue;
    if (!step || !step.flags.some((f) => f.name === name)) {
      const owners = STEP_LIST.filter((s) => s.flags.some((f) => f.name === name)).map((s) => s.command);
      throw new UsageError(`--${name} is not an option of ${cmd ?? 'the app'} (it belongs to ${owners.join(', ')}); ${helpFor(cmd)}`);
    }
  }
  return { command: (cmd as Command | undefined) ?? null, flags };
}
