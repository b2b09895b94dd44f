import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../../src/cli/commands.js';
import { setControls } from '../../src/move/control.js';
import { engineContext } from '../helpers/engine.js';
import { withClient } from '../helpers/db.js';
import { resolveConfig } from '../../src/config/config.js';
import { demoDatabase, KEY, renderApp, type DatabaseFixture } from './harness.js';

/** Failures, rollback, quitting while a step runs, small terminals and the read-only watch view, on a real database. */
describe('errors, rollback, quit, resize, watch (real database)', () => {
  let fx: DatabaseFixture;
  const relExists = async (name: string) => Number((await fx.admin.query(`SELECT count(*) AS n FROM pg_class WHERE relname = $1`, [name])).rows[0].n) > 0;

  beforeAll(async () => {
    fx = await demoDatabase({ rows: 3000, programs: 4 });
    const { ctx, close } = await engineContext(fx.db.config);
    try {
      expect((await runCommand('create', ctx, {})).ok).toBe(true);
    } finally {
      await close();
    }
  });
  afterAll(async () => {
    await fx?.close();
  });

  it('a swap out of order gets the state\'s answer, no prompt, and the checklist does not mark it failed', async () => {
    const app = await renderApp(fx, { initialStep: 'swap' });
    try {
      await app.waitFor('6. Swap');
      await app.press(KEY.enter);
      const f = await app.waitFor('swap refused');
      expect(f).toMatch(/swap refused: nothing is copied yet: run migrate, then verify --data; nothing was changed/);
      expect(f).not.toContain('Type petri_observations');
      expect(f).toMatch(/6·/);
      expect(await relExists('petri_observations_old')).toBe(false);
    } finally {
      await app.close();
    }
  });

  it('shows a server error (connection terminated) with the server message and what was left unchanged', async () => {
    const app = await renderApp(fx, { initialStep: 'verify' });
    try {
      await app.waitFor('3. Verify');
      const pid = (await app.session.engine.client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
      await fx.admin.query('SELECT pg_terminate_backend($1)', [pid]);
      await app.press(KEY.enter);
      const f = await app.waitFor('unchanged:', 60_000);
      expect(f).toMatch(/✘ .*(terminat|Connection|connection)/);
      // the run failed before it could record anything: the step's state stays what the journal says
      expect(f).not.toMatch(/3\. Verify\s+✔/);
    } finally {
      await app.close();
    }
  });

  it('q while a step runs asks first, then stops it after the current batch and exits', async () => {
    await setControls(fx.admin, resolveConfig({}), { maxRate: 100, batchSize: 100 });
    const app = await renderApp(fx, { initialStep: 'migrate' });
    try {
      await app.waitFor('5. Migrate');
      await app.press(KEY.enter);
      await app.waitFor('Press y to go ahead');
      await app.press('y');
      await app.waitFor(/copying|running migrate/);
      await app.press('q');
      await app.waitFor('Stop it safely and quit?');
      await app.press('n');
      await app.waitFor((f) => !f.includes('Stop it safely and quit?'));
      expect(app.exits).toEqual([]);
      await app.press('q');
      await app.waitFor('Stop it safely and quit?');
      await app.press('y');
      await app.waitForExit();
      expect(app.exits).toEqual([130]);
      const rec = (await fx.admin.query(`SELECT status FROM partwise.step_log WHERE step = 'migrate' ORDER BY id DESC LIMIT 1`)).rows[0];
      expect(rec.status).not.toBe('running');
      const copied = Number((await fx.admin.query(`SELECT count(*) AS n FROM public.petri_observations_partitioned`)).rows[0].n);
      expect(copied).toBeLessThan(3000);
    } finally {
      await app.close();
      await setControls(fx.admin, resolveConfig({}), { maxRate: null, batchSize: 10_000 });
    }
  });

  it('watch is read-only: the same checklist, no actions', async () => {
    const app = await renderApp(fx, { readOnly: true, initialStep: 'migrate' });
    try {
      const f = await app.waitFor('watch (read-only)');
      expect(f).not.toContain('enter migrate');
      await app.waitFor(/overall .*\d+\/3,000/);
      await app.press(KEY.enter);
      await app.press('p');
      expect(app.frame()).not.toContain('Press y to go ahead');
      expect((await fx.admin.query(`SELECT paused FROM partwise.control`)).rows[0].paused).toBe(false);
    } finally {
      await app.close();
    }
  });

  it('says plainly when the terminal is too small, and follows the resize back', async () => {
    const app = await renderApp(fx, { initialStep: 'check' });
    try {
      await app.waitFor('1. Prerequisites');
      await app.resize(70, 20);
      await app.waitFor('The terminal is 70x20; partwise needs at least 80x24');
      await app.resize(80, 24);
      const f = await app.waitFor('1. Prerequisites');
      expect(f.split('\n').length).toBeLessThan(24);
      expect(Math.max(...f.split('\n').map((l) => [...l].length))).toBeLessThanOrEqual(80);
    } finally {
      await app.close();
    }
  });

  it('rollback before the swap asks for the table name, then drops the new table and leaves the source as it was', async () => {
    const before = Number((await fx.admin.query(`SELECT count(*) AS n FROM public.petri_observations`)).rows[0].n);
    const app = await renderApp(fx, { initialStep: 'create' });
    try {
      // R works once the journal says Create is done: the footer offers it then
      await app.waitFor('R rollback');
      await app.press('R');
      await app.waitFor('Rollback');
      await app.press(KEY.enter);
      await app.waitFor('Type petri_observations');
      await app.press(...'petri_observations'.split(''), KEY.enter);
      const f = await app.waitFor(/R\. Rollback\s+(✔ done|✘ failed)/, 60_000);
      expect(f).toContain('✔ done');
      expect(await relExists('petri_observations_partitioned')).toBe(false);
      expect(Number((await fx.admin.query(`SELECT count(*) AS n FROM public.petri_observations`)).rows[0].n)).toBe(before);
    } finally {
      await app.close();
    }
  });
});

/** ALTER DATABASE … ALLOW_CONNECTIONS, from another database (a database cannot refuse the session that asks). */
const allowConnections = (fx: DatabaseFixture, allow: boolean) =>
  withClient({ ...fx.db.config, database: 'postgres' }, (c) => c.query(`ALTER DATABASE ${fx.db.name} ALLOW_CONNECTIONS ${allow}`));

describe('a lost connection (real database)', () => {
  let fx: DatabaseFixture;
  beforeAll(async () => {
    fx = await demoDatabase({ rows: 500, programs: 2 });
  });
  afterAll(async () => {
    if (fx) await allowConnections(fx, true).catch(() => undefined);
    await fx?.close();
  });

  it('the status line says "reconnecting" while the server refuses, and the app comes back by itself', async () => {
    const app = await renderApp(fx, { initialStep: 'check', readOnly: true });
    try {
      await app.waitFor('connection ok');
      // the journal read first (under load the connection can be up while the checklist is still "reading the journal…")
      await app.waitFor('1. Prerequisites');
      const pid = (app.session.view as unknown as { processID: number }).processID;
      // the database refuses new connections and its session ends, as when the server stops
      await allowConnections(fx, false);
      await fx.admin.query('SELECT pg_terminate_backend($1)', [pid]);
      const lost = await app.waitFor('reconnecting…');
      expect(lost).toMatch(/connection lost, reconnecting… \(/);
      expect(lost).toContain('1. Prerequisites');
      await allowConnections(fx, true);
      await app.waitFor('connection ok');
      expect((app.session.view as unknown as { processID: number }).processID).not.toBe(pid);
    } finally {
      await app.close();
    }
  });
});
