/**
 * The migrate screen tells the truth while another terminal changes the controls, and after a restart: a pause from
 * `partwise pause` shows (0/s, no ETA) and the first p here resumes; + while paused shows at once; a copy stopped
 * earlier shows its progress and "resume at N% (M rows copied)". Real database, the real copy (two workers, chosen
 * with w), slowed by its rate limit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../../src/cli/commands.js';
import { resolveConfig } from '../../src/config/config.js';
import { setControls } from '../../src/move/control.js';
import { engineContext } from '../helpers/engine.js';
import { demoDatabase, KEY, renderApp, type DatabaseFixture } from './harness.js';

const ROWS = 3000;

describe('the migrate screen: controls from another terminal, pause, resume (real database)', () => {
  let fx: DatabaseFixture;
  beforeAll(async () => {
    fx = await demoDatabase({ rows: ROWS, programs: 3, prefix: 'pw_screens_progress' });
    const { ctx, close } = await engineContext(fx.db.config);
    try {
      expect((await runCommand('create', ctx, {})).exitCode).toBe(0);
    } finally {
      await close();
    }
  });
  afterAll(async () => {
    await fx?.close();
  });

  const controls = async () => (await fx.admin.query(`SELECT paused, max_rate FROM partwise.control`)).rows[0] as { paused: boolean; max_rate: number | null };

  it('before any copy, the controls set on the screen reach the journal (the screen\'s reads never swallow them)', async () => {
    const app = await renderApp(fx, { initialStep: 'migrate' });
    try {
      await app.waitFor('rate no limit');
      await app.press('-');
      await app.waitFor('rate 100,000 rows/s');
      await app.press('b');
      await app.waitFor('batch 20,000 rows');
      expect(await controls()).toMatchObject({ max_rate: 100_000 });
      expect((await fx.admin.query(`SELECT batch_size FROM partwise.control`)).rows[0].batch_size).toBe(20_000);
    } finally {
      await app.close();
    }
  });

  it('a pause from another terminal shows as paused with 0/s and no ETA; + while paused shows at once; the first p resumes', async () => {
    // slow enough to stay running through the test: 100 rows a second
    await setControls(fx.admin, resolveConfig({}), { maxRate: 100, batchSize: 100 });
    const app = await renderApp(fx, { initialStep: 'migrate' });
    try {
      await app.waitFor('5. Migrate');
      // two copy workers, chosen on the screen before the start: pause, rate and resume work as with one
      await app.waitFor('workers 1 (w)');
      await app.press('w');
      await app.waitFor('workers 2 (w)');
      await app.press(KEY.enter);
      await app.waitFor('Press y to go ahead');
      await app.press('y');
      await app.waitFor(/overall .* [1-9][\d,]*\/3,000/);
      expect((await fx.admin.query(`SELECT detail->>'workers' AS w FROM partwise.step_log WHERE step = 'migrate' ORDER BY id DESC LIMIT 1`)).rows[0].w).toBe('2');
      expect(app.frame()).toContain('all: one pass over the table copies every program at once');

      // partwise pause, from another terminal
      const { ctx, close } = await engineContext(fx.db.config);
      try {
        expect((await runCommand('pause', ctx, {})).exitCode).toBe(0);
      } finally {
        await close();
      }
      let f = await app.waitFor((x) => x.includes('PAUSED') && /overall .* 0\/s ETA -$/m.test(x));
      const bars = f.split('\n').filter((l) => /\/[\d,]+ +\d+% .* paused$/.test(l));
      expect(bars.length).toBeGreaterThan(0);
      for (const l of bars) expect(l).toMatch(/ 0 +- paused$/);

      // + while paused: the new rate shows now, not at resume
      await app.press('+');
      f = await app.waitFor('rate 500 rows/s');
      expect(f).toContain('PAUSED');
      expect((await controls()).max_rate).toBe(500);

      // the first p after the external pause resumes
      await app.press('p');
      await app.waitFor((x) => !x.includes('PAUSED') && /· running ·/.test(x));
      expect((await controls()).paused).toBe(false);

      // stop it safely, as q does
      await app.press('q');
      await app.waitFor('Stop it safely and quit?');
      await app.press('y');
      for (let i = 0; i < 600 && app.exits.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
      expect(app.exits).toEqual([130]);
    } finally {
      await app.close();
    }
  });

  it('after the stop, the migrate screen shows the progress from the journal and where it resumes', async () => {
    const copied = Number((await fx.admin.query(`SELECT sum(copied) AS n FROM partwise.copy_progress`)).rows[0].n);
    expect(copied).toBeGreaterThan(0);
    expect(copied).toBeLessThan(ROWS);
    const pct = Math.floor((copied * 100) / ROWS);
    const app = await renderApp(fx);
    try {
      // it opens on Migrate (the next step), interrupted, and says where it resumes
      const f = await app.waitFor((x) => x.includes('5. Migrate') && /overall .*\/3,000/.test(x));
      expect(f).toMatch(/5\. Migrate\s+! interrupted/);
      expect(f).toContain(`resume at ${pct}% (${copied.toLocaleString('en-US')} rows copied): enter continues from the last committed batch`);
      expect(f).toMatch(new RegExp(`overall .* ${copied.toLocaleString('en-US')}/3,000`));
      // one bar per program, with what was copied, not an empty table
      expect(f.split('\n').filter((l) => /\d+\/[\d,]+ +\d+%/.test(l) && !l.startsWith('overall')).length).toBe(4);
      await app.press(KEY.enter);
      await app.waitFor('Press y to go ahead');
      expect(app.frame().replace(/[│\s]+/g, ' ')).toContain(`Resume at ${pct}% (${copied.toLocaleString('en-US')} rows copied)`);
      await app.press('n');
    } finally {
      await app.close();
      await setControls(fx.admin, resolveConfig({}), { maxRate: null, batchSize: 10_000 });
    }
  });
});
