/**
 * End to end: the real bin/partwise (compiled dist/) in a real terminal (tmux), on a fresh embedded demo database,
 * walked with keys through the whole checklist; then the database is checked directly.
 * Needs tmux; without it the test is skipped with a message saying so.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, runCli } from './helpers/cli.js';
import { envPrefix } from './helpers/env.js';
import { serverTempDir } from './helpers/tempDir.js';
import { hasTmux, tmuxServer } from './helpers/tmux.js';
import { waitForExit, waitUntil } from './helpers/waitUntil.js';
import { startEmbedded } from '../src/db/embedded.js';
import { stopSharedServer } from '../src/db/embeddedShared.js';
import { resolveConfig } from '../src/config/config.js';
import { readMigrationState } from '../src/state/readState.js';

if (!hasTmux) console.warn('e2e-tmux: tmux is not installed: the end-to-end terminal walk is SKIPPED (apt-get install tmux to run it)');

const terminals = tmuxServer('partwise-e2e');
const tmux = terminals.tmux;

describe.skipIf(!hasTmux)('e2e: bin/partwise in tmux walks the checklist on a fresh embedded demo database', () => {
  let dir = '';
  let dataDir = '';
  beforeAll(() => {
    dir = serverTempDir('partwise-e2e-');
    dataDir = join(dir, 'pg17');
  });
  afterAll(async () => {
    terminals.kill();
    // the rehearsal server outlives the app: every test stops the one it started
    await stopSharedServer(dataDir);
    rmSync(dir, { recursive: true, force: true });
  });

  it('prerequisites, create, verify, test insert, migrate (all), verify data, swap, monitor; then the database is partitioned with every row', async () => {
    const exitFile = join(dir, 'exit');
    const env = envPrefix({ PARTWISE_EMBEDDED_DIR: dataDir, TERM: 'xterm-256color', CI: undefined, NO_COLOR: undefined });
    const cmd = `${env} ${process.execPath} ${BIN} --demo-rows 5000 --demo-programs 4; echo $? > ${exitFile}; sleep 3600`;
    const t = terminals.open('e2e', cmd);

    // 1 Prerequisites: runs by itself once the embedded server is up and seeded
    let s = await t.waitFor(/1\. Prerequisites\s+(✔ done|✘ failed)/, 240_000);
    expect(s).toContain('embedded rehearsal database');
    expect(s).toMatch(/\d+ ok · \d+ warn · \d+ fail/);

    await t.key('2', /2\. Create\s+· pending/);
    await t.key('Enter', 'Press y to go ahead');
    s = await t.key('y', /2\. Create\s+(✔ done|✘ failed)/);
    expect(s).toContain('✔ done');

    await t.key('3', /3\. Verify\s+· pending/);
    s = await t.key('Enter', /3\. Verify\s+(✔ done|✘ failed)/);
    expect(s).toMatch(/\d+ ok · \d+ warn · 0 fail/);

    await t.key('4', /4\. Test insert\s+· pending/);
    await t.key('Enter', 'Press y to go ahead');
    s = await t.key('y', /4\. Test insert\s+(✔ done|✘ failed)/);
    expect(s).toContain('✔ done');

    await t.key('5', 'every program at once');
    await t.key('Enter', 'Press y to go ahead');
    s = await t.key('y', /5\. Migrate\s+(✔ done|✘ failed)/);
    expect(s).toContain('✔ done');
    expect(s).toMatch(/overall .*5,000\/5,000 +100%/);

    // the copy is complete: the structure was verified before it, the data is not yet
    await t.key('3', /3\. Verify\s+· pending/);
    // the data run replaces the structure's: running until it is done or failed
    s = await t.key('d', /^(?=[\s\S]*Data: row counts)[\s\S]*3\. Verify\s+(✔ done|✘ failed)/);
    expect(s).toMatch(/3\. Verify\s+✔ done/);

    await t.key('6', /6\. Swap\s+· pending/);
    await t.key('Enter', 'Type petri_observations and press enter');
    await t.type('petri_observations');
    s = await t.key('Enter', /6\. Swap\s+(✔ done|✘ failed)/);
    expect(s).toContain('✔ done');

    s = await t.key('7', /total \(\d+\)/);
    expect(s).toContain('petri_obs_default');
    // the checklist: every step up to swap done
    expect(s).toMatch(/1✔[^✔\n]*2✔[^✔\n]*3✔[^✔\n]*4✔[^✔\n]*5✔[^✔\n]*6✔/);

    t.send('q');
    await waitUntil(() => existsSync(exitFile), { what: 'partwise to exit after q', last: t.screen });
    expect(readFileSync(exitFile, 'utf8').trim()).toBe('0');

    // the database itself, on the same embedded server (it keeps running after the app quits)
    const server = await startEmbedded({ persistent: true, dataDir, database: 'partwise_demo' });
    expect(server.started).toBe(false);
    const client = new pg.Client(server.config);
    try {
      await client.connect();
      const rel = await client.query(`SELECT relkind FROM pg_class WHERE oid = 'public.petri_observations'::regclass`);
      expect(rel.rows[0].relkind).toBe('p');
      expect(Number((await client.query(`SELECT count(*) AS n FROM public.petri_observations`)).rows[0].n)).toBe(5000);
      expect(Number((await client.query(`SELECT count(*) AS n FROM public.petri_observations_old`)).rows[0].n)).toBe(5000);
      const parts = await client.query(`SELECT count(*) AS n FROM pg_inherits WHERE inhparent = 'public.petri_observations'::regclass`);
      expect(Number(parts.rows[0].n)).toBe(5);
      expect((await readMigrationState(client, resolveConfig({}))).phase).toBe('swapped');
    } finally {
      await client.end().catch(() => undefined);
      await server.stop();
    }
  }, 600_000);

  it('an SSH disconnect (SIGHUP: the terminal closes) while copying: the batch commits, the process exits, the next start resumes', async () => {
    const dir2 = serverTempDir('partwise-e2e-hup-');
    const dataDir2 = join(dir2, 'pg17');
    try {
      const env = envPrefix({ PARTWISE_EMBEDDED_DIR: dataDir2, TERM: 'xterm-256color', CI: undefined });
      const t = terminals.open('hup', `${env} ${process.execPath} ${BIN} --demo-rows 5000 --demo-programs 4; sleep 3600`);
      await t.waitFor(/1\. Prerequisites\s+(✔ done|✘ failed)/, 240_000);
      await t.key('2', /2\. Create\s+· pending/);
      await t.key('Enter', 'Press y to go ahead');
      await t.key('y', /2\. Create\s+✔ done/);
      await t.key('5', /5\. Migrate/);
      // slow the copy down to 100 rows/s in batches of 100, so that it is surely copying when the terminal goes
      await t.stepTo('-', /rate ([\d,]+ rows\/s|no limit)/, '100 rows/s');
      await t.stepTo('b', /batch ([\d,]+) rows/, '100');
      await t.key('Enter', 'Press y to go ahead');
      // copying, with at least one batch committed and shown
      await t.key('y', /^(?=[\s\S]*copying)[\s\S]*overall .* [1-9][\d,]*\/5,000/);
      const nodePid = t.processPid();
      expect(nodePid).toBeGreaterThan(0);
      tmux('kill-session', '-t', 'hup'); // the terminal goes away: SIGHUP to the process
      await waitForExit(nodePid, 'partwise to stop safely and exit after SIGHUP');

      const server = await startEmbedded({ persistent: true, dataDir: dataDir2, database: 'partwise_demo' });
      const client = new pg.Client(server.config);
      try {
        await client.connect();
        const log = await client.query(`SELECT status FROM partwise.step_log WHERE step = 'migrate' ORDER BY id DESC LIMIT 1`);
        // stopped at a safe point: interrupted, not failed
        expect(log.rows[0].status).toBe('interrupted');
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
      await stopSharedServer(dataDir2);
      rmSync(dir2, { recursive: true, force: true });
    }

  }, 600_000);
});
