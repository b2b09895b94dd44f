/**
 * The real bin/partwise started with --json, its events read as they come: wait for the first event that matches,
 * then (for instance) kill it with SIGKILL at that very point.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cleanEnv } from './env.js';
import { BIN } from './cli.js';

export interface RunningCli {
  child: ChildProcess;
  exited: Promise<number | null>;
  events: Array<Record<string, unknown>>;
  output(): string;
  /** resolves true once an event matches, false when the process ended first */
  until(match: (e: Record<string, unknown>) => boolean): Promise<boolean>;
}

export function startCli(args: string[], env: Record<string, string> = {}): RunningCli {
  const child = spawn(process.execPath, [BIN, ...args, '--json'], { env: cleanEnv({ NO_COLOR: '1', ...env }), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let partial = '';
  const events: Array<Record<string, unknown>> = [];
  const waiters: Array<{ match: (e: Record<string, unknown>) => boolean; resolve: (v: boolean) => void }> = [];
  child.stdout!.on('data', (d: Buffer) => {
    out += d;
    partial += d;
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const l of lines.filter((x) => x.startsWith('{'))) {
      const e = JSON.parse(l) as Record<string, unknown>;
      events.push(e);
      for (const w of waiters.filter((x) => x.match(e))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(true);
      }
    }
  });
  child.stderr!.on('data', (d: Buffer) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  void exited.then(() => {
    for (const w of waiters.splice(0)) w.resolve(false);
  });
  return {
    child, exited, events, output: () => out,
    until: (match) => (events.some(match) ? Promise.resolve(true) : new Promise((resolve) => waiters.push({ match, resolve }))),
  };
}
