/**
 * Item 6: the copy as users run it, `node bin/partwise migrate --mode all --yes` in a child process (connection by
 * libpq environment, so no password on a command line), with its peak resident set size read from
 * /proc/<pid>/status (VmHWM, the kernel's high-water mark) every 100 ms while it runs.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../sqlFiles.js';

export interface ChildMigrate {
  exitCode: number | null;
  seconds: number;
  startMs: number;
  endMs: number;
  /** VmHWM in MiB; null where /proc is not available */
  peakRssMb: number | null;
  /** the last lines it printed, for the report when it failed */
  tail: string[];
  /** the latency guard's lines (its calibration and every rate it set), in order */
  guardLines: string[];
}

function vmHwmKb(pid: number): number | null {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

export function runChildMigrate(env: NodeJS.ProcessEnv, extraArgs: string[] = []): Promise<ChildMigrate> {
  const bin = path.join(packageRoot(), 'bin', 'partwise');
  return new Promise((resolve, reject) => {
    const startMs = Date.now();
    const child = spawn(process.execPath, [bin, 'migrate', '--mode', 'all', '--yes', ...extraArgs], { env: { ...env, CI: '1', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let partial = '';
    const guardLines: string[] = [];
    child.stdout.on('data', (d: Buffer) => {
      out = (out + d.toString()).slice(-20_000);
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) if (/latency guard:/.test(l)) guardLines.push(l.trim());
    });
    child.stderr.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
    let peak: number | null = null;
    const sample = () => {
      const kb = child.pid ? vmHwmKb(child.pid) : null;
      if (kb !== null) peak = Math.max(peak ?? 0, kb);
    };
    const timer = setInterval(sample, 100);
    child.on('error', (e) => {
      clearInterval(timer);
      reject(e);
    });
    child.on('exit', (code) => {
      clearInterval(timer);
      const endMs = Date.now();
      resolve({ exitCode: code, seconds: (endMs - startMs) / 1000, startMs, endMs, peakRssMb: peak === null ? null : peak / 1024, tail: out.trim().split('\n').slice(-8), guardLines });
    });
  });
}
