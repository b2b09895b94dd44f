/**
 * Waiting for a condition instead of sleeping a fixed time: under load a fixed sleep is sometimes too short (the test
 * flakes) and otherwise too long (the suite crawls). The poll interval only sets how soon a met condition is noticed.
 */
export interface WaitOptions {
  /** what is awaited, for the failure message */
  what: string;
  timeoutMs?: number;
  /** the state to show when it times out (the last frame, the screen, a log) */
  last?: () => string;
  intervalMs?: number;
}

export type Truthy<T> = Exclude<T, null | undefined | false | 0 | ''>;

/** Resolves with check()'s first truthy value; rejects after timeoutMs naming what was awaited and the last state. */
export async function waitUntil<T>(check: () => T | Promise<T>, opts: WaitOptions): Promise<Truthy<T>> {
  const { what, timeoutMs = 60_000, last, intervalMs = 50 } = opts;
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as Truthy<T>;
    if (Date.now() > until) {
      const state = last ? `; last state:\n${last()}` : '';
      throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}${state}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Resolves once the process with this pid is gone (or rejects after timeoutMs). */
export async function waitForExit(pid: number, what: string, timeoutMs = 60_000): Promise<void> {
  const gone = () => {
    try {
      process.kill(pid, 0);
      return false;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'ESRCH';
    }
  };
  await waitUntil(gone, { what, timeoutMs, intervalMs: 100 });
}
