/**
 * Without an interactive terminal partwise never starts Ink (no raw-mode crash): it says which headless command to
 * use and exits 2, through the real bin/partwise.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, runCli } from './helpers/cli.js';
import { envPrefix } from './helpers/env.js';
import { hasTmux, tmuxServer } from './helpers/tmux.js';
import { waitUntil } from './helpers/waitUntil.js';

const INK_CRASH = /Raw mode is not supported|setRawMode|ERR_/;

describe('no TTY: no Ink app', () => {
  it('stdin and stdout not a TTY: a clear message naming the headless commands, exit 2, nothing drawn', async () => {
    const r = await runCli([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('the checklist app needs an interactive terminal');
    expect(r.stderr).toContain('partwise check');
    expect(r.stderr).not.toMatch(INK_CRASH);
    expect(r.stdout).toBe('');
  });

  it('watch without a TTY points to partwise status', async () => {
    const r = await runCli(['watch']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('partwise status');
    expect(r.stderr).not.toMatch(INK_CRASH);
  });

  it('CI set or TERM=dumb: no Ink either', async () => {
    for (const env of [{ CI: '1' }, { TERM: 'dumb' }]) {
      const r = await runCli([], env);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('needs an interactive terminal');
    }
  });

  it.skipIf(!hasTmux)('stdout a terminal but stdin a pipe (tmux): still no Ink, the same message', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'partwise-notty-'));
    const terminals = tmuxServer('partwise-notty');
    const out = join(dir, 'out');
    try {
      const cmd = `echo | ${envPrefix({ CI: undefined })} ${process.execPath} ${BIN} 2> ${out}; echo $? > ${out}.code; sleep 60`;
      terminals.open('n', cmd);
      await waitUntil(() => existsSync(`${out}.code`), { what: 'partwise to exit in tmux', last: () => (existsSync(out) ? readFileSync(out, 'utf8') : '(no output yet)') });
      expect(readFileSync(`${out}.code`, 'utf8').trim()).toBe('2');
      const err = readFileSync(out, 'utf8');
      expect(err).toContain('needs an interactive terminal');
      expect(err).not.toMatch(INK_CRASH);
    } finally {
      terminals.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
