/**
 * bin/partwise runs the compiled dist/, so the tests that spawn it (cli, no-tty, e2e, kill-resume, ...) need dist/
 * built from the current src/. globalSetup calls this once per run, before any test starts: it compiles when the
 * sources changed since the last build (a hash of them is kept in dist/), and a compile error fails the run.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { waitUntil } from '../helpers/waitUntil.js';

/** What the build depends on, relative to the project root. */
const INPUTS = ['src', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json'];

export async function buildDist(root: string): Promise<'built' | 'up to date'> {
  const dist = path.join(root, 'dist');
  const stamp = path.join(dist, '.source-hash');
  const hash = await sourceHash(root);
  const current = async () => (await fs.readFile(stamp, 'utf8').catch(() => '')) === hash;
  if (await current()) return 'up to date';
  // two runs in one worktree (e.g. embedded and PostgreSQL 15 at once) must not rewrite dist/ under each other's CLIs
  const release = await lock(`${dist}.build-lock`);
  try {
    if (await current()) return 'up to date';
    await fs.rm(stamp, { force: true });
    const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    await new Promise<void>((resolve, reject) =>
      execFile(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`building dist/ failed (tsc -p tsconfig.build.json exited ${err.code ?? err.signal}); the CLI tests would run stale code:\n${stdout}${stderr}`));
        else resolve();
      }),
    );
    await fs.writeFile(stamp, hash);
    return 'built';
  } finally {
    await release();
  }
}

async function sourceHash(root: string): Promise<string> {
  const files: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const st = await fs.stat(path.join(root, rel)).catch(() => undefined);
    if (!st) return;
    if (!st.isDirectory()) return void files.push(rel);
    for (const name of await fs.readdir(path.join(root, rel))) await walk(path.join(rel, name));
  };
  for (const input of INPUTS) await walk(input);
  const h = createHash('sha256');
  for (const f of files.sort()) h.update(`${f}\0`).update(await fs.readFile(path.join(root, f))).update('\0');
  return h.digest('hex');
}

/** An exclusive lock file holding our pid; one left by a process that is gone is taken over. */
async function lock(file: string): Promise<() => Promise<void>> {
  const take = async (): Promise<boolean> => {
    try {
      await fs.writeFile(file, String(process.pid), { flag: 'wx' });
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    // an empty file is being written by its holder: wait for it
    const holder = Number.parseInt(await fs.readFile(file, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(holder) && !alive(holder)) await fs.rm(file, { force: true });
    return false;
  };
  await waitUntil(take, { what: `the other test run's build of dist/ (lock ${file})`, timeoutMs: 300_000, intervalMs: 200 });
  return () => fs.rm(file, { force: true });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
