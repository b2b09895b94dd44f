/**
 * End to end: the real bin/partwise (compiled dist/) in a real terminal (tmux), on a fresh embedded demo database,
 * walked with keys through the whole checklist; then the database is checked directly.
 * Needs tmux; without it the test is skipped with a message saying so.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, chmodSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, runCli } from './helpers/cli.js';
import { startEmbedded } from '../src/db/embedded.js';

const hasTmux = spawnSync('tmux', ['-V']).status === 0;
if (!hasTmux) console.warn('e2e-tmux: tmux is not installed: the end-to-end terminal walk is SKIPPED (apt-get install tmux to run it)');

const socket = `partwise-e2e-${randomBytes(4).toString('hex')}`;
const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
const screen = () => tmux('capture-pane', '-p', '-t', 'e2e');
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string | RegExp, timeoutMs = 120_000): Promise<string> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const s = screen();
    if (typeof what === 'string' ? s.includes(what) : what.test(s)) {
      await pause(200);
      return s;
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${String(what)}; screen:\n${s}`);
    await pause(200);
  }
}

async function keys(...k: string[]): Promise<void> {
  for (const key of k) {
    tmux('send-keys', '-t', 'e2e', key);
    await pause(150);
  }
}

async function type(text: string): Promise<void> {
  tmux('send-keys', '-t', 'e2e', '-l', text);
  await pause(150);
}

describe.skipIf(!hasTmux)('e2e: bin/partwise in tmux walks the checklist on a fresh embedded demo database', () => {
  const dir = mkdtempSync(join(tmpdir(), 'partwise-e2e-'));
  // as root the embedded server runs as the postgres OS user, which must reach the data directory
  chmodSync(dir, 0o755);
  const dataDir = join(dir, 'pg17');
  const exitFile = join(dir, 'exit');

  afterAll(() => {
    try {
      tmux('kill-server');
    } catch {
      // already gone
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('prerequisites, create, verify, test insert, migrate (all), verify data, swap, monitor; then the database is partitioned with every row', async () => {
    const env = Object.entries({ PARTWISE_EMBEDDED_DIR: dataDir, TERM: 'xterm-256color' }).map(([k, v]) => `${k}=${v}`).join(' ');
    const unset = ['DATABASE_URL', 'PGHOST', 'PGPORT', 'PGUSER', 'PGPASSWORD', 'PGDATABASE', 'PGSSLMODE', 'CI', 'NO_COLOR'].map((k) => `-u ${k}`).join(' ');
    const cmd = `env ${unset} ${env} ${process.execPath} ${BIN} --demo-rows 5000 --demo-programs 4; echo $? > ${exitFile}; sleep 3600`;
    tmux('new-session', '-d', '-s', 'e2e', '-x', '100', '-y', '30', cmd);

    // 1 Prerequisites: runs by itself once the embedded server is up and seeded
    let s = await waitFor(/1\. Prerequisites\s+(✔ done|✘ failed)/, 240_000);
    expect(s).toContain('embedded rehearsal database');
    expect(s).toMatch(/\d+ ok · \d+ warn · \d+ fail/);

    await keys('2', 'Enter');
    await waitFor('Press y to go ahead');
    await keys('y');
    s = await waitFor(/2\. Create\s+(✔ done|✘ failed)/);
    expect(s).toContain('✔ done');

    await keys('3', 'Enter');
    s = await waitFor(/3\. Verify\s+(✔ done|✘ failed)/);
    expect(s).toMatch(/\d+ ok · \d+ warn · 0 fail/);

    await keys('4', 'Enter');
    await waitFor('Press y to go ahead');
    await keys('y');
    s = await waitFor(/4\. Test insert\s+(✔ done|✘ failed)/);
    expect(s).toContain('✔ done');

    await keys('5');
    await waitFor('every program at once');
    await keys('Enter');
    await waitFor('Press y to go ahead');
    await keys('y');
    s = await waitFor(/5\. Migrate\s+(✔ done|✘ failed)/);
    expect(s).toContain('✔ done');
    expect(s).toMatch(/overall .*5,000\/5,000 +100%/);

    await keys('3', 'd');
    s = await waitFor(/3\. Verify\s+(✔ done|✘ failed)/);
    expect(s).toContain('✔ done');

    await keys('6', 'Enter');
    await waitFor('Type petri_observations and press enter');
    await type('petri_observations');
    await keys('Enter');
    s = await waitFor(/6\. Swap\s+(✔ done|✘ failed)/);
    expect(s).toContain('✔ done');

    await keys('7');
    s = await waitFor(/total \(\d+\)/);
    expect(s).toContain('petri_obs_default');
    // the checklist: every step up to swap done
    expect(s).toMatch(/1✔\s+2✔\s+3✔\s+4✔\s+5✔\s+6✔/);

    await keys('q');
    for (let i = 0; i < 300 && !existsSync(exitFile); i++) await pause(100);
    expect(readFileSync(exitFile, 'utf8').trim()).toBe('0');

    // the database itself, on the same (now stopped) embedded cluster
    const server = await startEmbedded({ persistent: true, dataDir, database: 'partwise_demo' });
    const client = new pg.Client(server.config);
    try {
      await client.connect();
      const rel = await client.query(`SELECT relkind FROM pg_class WHERE oid = 'public.petri_observations'::regclass`);
      expect(rel.rows[0].relkind).toBe('p');
      expect(Number((await client.query(`SELECT count(*) AS n FROM public.petri_observations`)).rows[0].n)).toBe(5000);
      expect(Number((await client.query(`SELECT count(*) AS n FROM public.petri_observations_old`)).rows[0].n)).toBe(5000);
      const parts = await client.query(`SELECT count(*) AS n FROM pg_inherits WHERE inhparent = 'public.petri_observations'::regclass`);
      expect(Number(parts.rows[0].n)).toBe(5);
      expect((await client.query(`SELECT phase FROM partwise.migration`)).rows[0].phase).toBe('swap');
    } finally {
      await client.end().catch(() => undefined);
      await server.stop();
    }
  }, 600_000);

  it('an SSH disconnect (SIGHUP: the terminal closes) while copying: the batch commits, the process exits, the next start resumes', async () => {
    const dir2 = mkdtempSync(join(tmpdir(), 'partwise-e2e-hup-'));
    chmodSync(dir2, 0o755);
    const dataDir2 = join(dir2, 'pg17');
    try {
      const unset = ['DATABASE_URL', 'PGHOST', 'PGPORT', 'PGUSER', 'PGPASSWORD', 'PGDATABASE', 'PGSSLMODE', 'CI'].map((k) => `-u ${k}`).join(' ');
      const cmd = `env ${unset} PARTWISE_EMBEDDED_DIR=${dataDir2} TERM=xterm-256color ${process.execPath} ${BIN} --demo-rows 5000 --demo-programs 4; sleep 3600`;
      tmux('new-session', '-d', '-s', 'hup', '-x', '100', '-y', '30', cmd);
      const on = async (...k: string[]) => {
        for (const key of k) await keys_(key);
      };
      const shot = () => tmux('capture-pane', '-p', '-t', 'hup');
      const until = async (re: RegExp, ms = 240_000) => {
        for (const end = Date.now() + ms; !re.test(shot()); await pause(200)) if (Date.now() > end) throw new Error(`timed out waiting for ${re}; screen:\n${shot()}`);
        await pause(200);
      };
      await until(/1\. Prerequisites\s+(✔ done|✘ failed)/);
      await on('2', 'Enter');
      await until(/Press y to go ahead/);
      await on('y');
      await until(/2\. Create\s+✔ done/);
      await on('5');
      await until(/5\. Migrate/);
      // slow the copy down to 100 rows/s in batches of 100, so that it is surely copying when the terminal goes
      for (let i = 0; i < 9; i++) await keys_('-');
      for (let i = 0; i < 9; i++) await keys_('b'); // down to the smallest batch, whatever the default
      await until(/rate 100 rows\/s/);
      await until(/batch 100 rows/);
      await on('Enter');
      await until(/Press y to go ahead/);
      await on('y');
      await until(/copying/);
      await pause(1500);
      const panePid = tmux('display-message', '-p', '-t', 'hup', '#{pane_pid}').trim();
      const nodePid = Number(execFileSync('pgrep', ['-P', panePid], { encoding: 'utf8' }).trim().split('\n')[0]);
      expect(nodePid).toBeGreaterThan(0);
      tmux('kill-session', '-t', 'hup'); // the terminal goes away: SIGHUP to the process
      const alive = () => {
        try {
          process.kill(nodePid, 0);
          return true;
        } catch {
          return false;
        }
      };
      for (let i = 0; i < 600 && alive(); i++) await pause(100);
      expect(alive()).toBe(false);

      const server = await startEmbedded({ persistent: true, dataDir: dataDir2, database: 'partwise_demo' });
      const client = new pg.Client(server.config);
      try {
        await client.connect();
        const log = await client.query(`SELECT status FROM partwise.step_log WHERE step = 'migrate' ORDER BY id DESC LIMIT 1`);
        expect(log.rows[0].status).not.toBe('running');
        const copied = Number((await client.query(`SELECT count(*) AS n FROM public.petri_observations_partitioned`)).rows[0].n);
        const journaled = Number((await client.query(`SELECT coalesce(sum(copied), 0) AS n FROM partwise.copy_progress`)).rows[0].n);
        expect(copied).toBeGreaterThan(0);
        expect(copied).toBeLessThan(5000);
        // every committed batch is in the journal, and nothing else
        expect(journaled).toBe(copied);
        await client.query(`UPDATE partwise.control SET max_rate = NULL, batch_size = 10000`);
      } finally {
        await client.end().catch(() => undefined);
        await server.stop();
      }
      const resumed = await runCli(['migrate', '--mode', 'all', '--yes'], { PARTWISE_EMBEDDED_DIR: dataDir2 }, 300_000);
      expect(resumed.code).toBe(0);
      const again = await startEmbedded({ persistent: true, dataDir: dataDir2, database: 'partwise_demo' });
      const c2 = new pg.Client(again.config);
      try {
        await c2.connect();
        expect(Number((await c2.query(`SELECT count(*) AS n FROM public.petri_observations_partitioned`)).rows[0].n)).toBe(5000);
      } finally {
        await c2.end().catch(() => undefined);
        await again.stop();
      }
    } finally {
      rmSync(dir2, { recursive: true, force: true });
    }

    async function keys_(k: string) {
      tmux('send-keys', '-t', 'hup', k);
      await pause(300);
    }
  }, 600_000);
});
