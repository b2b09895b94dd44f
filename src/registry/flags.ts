/** Flag values to typed options, for every step's `options` (usage errors exit 2 and name the flag). */
import type { FlagValues } from './types.js';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function stringFlag(flags: FlagValues, name: string): string | undefined {
  const v = flags[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new UsageError(`--${name} takes a value`);
  return v;
}

export function intFlag(flags: FlagValues, name: string, min: number, max: number): number | undefined {
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
export function ratioFlag(flags: FlagValues, name: string): number | undefined {
  const v = flags[name];
  if (v === undefined) return undefined;
  const r = typeof v === 'string' ? parseRatio(v) : 'not a number';
  if (r === 'not a number') throw new UsageError(`--${name} takes a number such as 2 or 1.5`);
  if (r === 'out of range') throw new UsageError(`--${name} must be between 1.1 and 100`);
  return r;
}

export function choiceFlag<T extends string>(flags: FlagValues, name: string, choices: readonly T[]): T | undefined {
  const v = flags[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !(choices as readonly string[]).includes(v)) throw new UsageError(`--${name} takes ${choices.join(', ')}${typeof v === 'string' ? ` (got ${v})` : ''}`);
  return v as T;
}
