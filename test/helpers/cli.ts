import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { cleanEnv } from './env.js';

export const BIN = fileURLToPath(new URL('../../bin/partwise', import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as NDJSON (with --json) */
  events: Array<Record<string, unknown>>;
}

/**
 * Runs the real bin/partwise (compiled dist/ by globalSetup) as a user would, without a TTY. The environment holds
 * no connection variables (see cleanEnv) but those the test passes.
 */
export function runCli(args: string[], env: Record<string, string | undefined> = {}, timeoutMs = 120_000): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: cleanEnv({ NO_COLOR: '1', ...env }), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const events = stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      resolve({ code, stdout, stderr, events });
    });
  });
}

export function resultOf(run: CliRun): Record<string, unknown> | undefined {
  return run.events.filter((e) => e.type === 'result').at(-1);
}
