/**
 * bin/partwise in real terminals: a tmux server of its own (its socket in the run's temporary directory, removed with
 * it: tmux leaves it behind when the server ends), one session per terminal. No fixed
 * sleeps: every key is followed by waiting for the screen it produces (capture-pane), so a key is never sent before
 * the screen it is meant for is drawn.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitUntil } from './waitUntil.js';

export const hasTmux = spawnSync('tmux', ['-V']).status === 0;

export function tmuxServer(prefix: string) {
  const socket = join(tmpdir(), `${prefix}-${randomBytes(4).toString('hex')}`);
  const tmux = (...args: string[]) => execFileSync('tmux', ['-S', socket, ...args], { encoding: 'utf8' });
  return {
    tmux,
    /** a new terminal (cols x rows) running the shell command `cmd` */
    open(name: string, cmd: string, cols = 100, rows = 30) {
      tmux('new-session', '-d', '-s', name, '-x', String(cols), '-y', String(rows), cmd);
      return terminal(tmux, name);
    },
    /** ends every terminal of this server, and removes its socket */
    kill() {
      spawnSync('tmux', ['-S', socket, 'kill-server']);
      rmSync(socket, { force: true });
    },
  };
}

export type Terminal = ReturnType<typeof terminal>;

export function terminal(tmux: (...args: string[]) => string, name: string) {
  const screen = () => tmux('capture-pane', '-p', '-t', name);
  const waitFor = async (what: string | RegExp, timeoutMs = 120_000): Promise<string> =>
    (await waitUntil(() => {
      const s = screen();
      return (typeof what === 'string' ? s.includes(what) : what.test(s)) && { s };
    }, { what: `the screen of ${name} to show ${String(what)}`, timeoutMs, last: screen, intervalMs: 100 })).s;
  return {
    screen,
    waitFor,
    /** sends one key (tmux key name), then waits for the screen that shows `expect` */
    async key(k: string, expect: string | RegExp, timeoutMs?: number): Promise<string> {
      tmux('send-keys', '-t', name, k);
      return waitFor(expect, timeoutMs);
    },
    /** sends a key whose effect is not on this screen (the process ends, for one) */
    send(k: string): void {
      tmux('send-keys', '-t', name, k);
    },
    /** types text literally, then waits for it on the screen */
    async type(text: string): Promise<string> {
      tmux('send-keys', '-t', name, '-l', text);
      return waitFor(text);
    },
    /** sends `k` until the screen's value (first group of `re`) is `target`, each time waiting for the value to change */
    async stepTo(k: string, re: RegExp, target: string): Promise<void> {
      const value = async () => (await waitFor(re)).match(re)![1]!;
      for (let v = await value(), n = 0; v !== target; n++) {
        if (n > 20) throw new Error(`${k} did not bring ${re} to ${target}; screen:\n${screen()}`);
        tmux('send-keys', '-t', name, k);
        await waitUntil(() => screen().match(re)?.[1] !== v, { what: `${k} to change ${re} from ${v}`, last: screen, intervalMs: 100 });
        v = await value();
      }
    },
    panePid: () => Number(tmux('display-message', '-p', '-t', name, '#{pane_pid}').trim()),
    /** the pid of the process the pane's shell runs (bin/partwise) */
    processPid: () => Number(execFileSync('pgrep', ['-P', String(Number(tmux('display-message', '-p', '-t', name, '#{pane_pid}').trim()))], { encoding: 'utf8' }).trim().split('\n')[0]),
  };
}
