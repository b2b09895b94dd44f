/**
 * A lock between processes on one machine: a file created exclusively, holding the owner's pid. A lock left by a
 * process that is gone (killed, crashed) is taken over, so a SIGKILL never leaves it stuck.
 */
import fs from 'node:fs/promises';

/** Runs `fn` while holding the lock `file`; waits for another holder up to `timeoutMs`, then fails saying who holds it. */
export async function withFileLock<T>(file: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const holder = await tryLock(file);
    if (holder === null) break;
    if (Date.now() > until) {
      throw new Error(`${file} is held by process ${holder ?? '(unknown)'}, which is still starting or stopping the server; wait for it, or end that process.`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  try {
    return await fn();
  } finally {
    await fs.rm(file, { force: true });
  }
}

/** null when taken; else the holder's pid (undefined while the holder is still writing it). */
async function tryLock(file: string): Promise<number | undefined | null> {
  try {
    await fs.writeFile(file, String(process.pid), { flag: 'wx', mode: 0o600 });
    return null;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const holder = Number.parseInt(await fs.readFile(file, 'utf8').catch(() => ''), 10);
  if (!Number.isInteger(holder)) return undefined;
  if (!processAlive(holder)) {
    // the holder is gone: remove its file only if it is still that one (another process may have taken over already)
    const again = Number.parseInt(await fs.readFile(file, 'utf8').catch(() => ''), 10);
    if (again === holder) await fs.rm(file, { force: true });
  }
  return holder;
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: alive, owned by another user (the postgres OS user when partwise runs as root, or the other way round)
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
