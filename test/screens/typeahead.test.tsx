/**
 * Keys typed ahead: a key that changes the screen and the next one arrive before the redraw (one read from a fast
 * typist, a paste, an SSH link that bunches keys). The second key must not reach the screen that is going away:
 * enter there would start that screen's step.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoDatabase, KEY, renderApp, type DatabaseFixture } from './harness.js';

describe('typed-ahead keys after a screen change (real database)', () => {
  let fx: DatabaseFixture;
  beforeAll(async () => {
    fx = await demoDatabase({ rows: 500, programs: 3, prefix: 'pw_screens_typeahead' });
  });
  afterAll(async () => {
    await fx?.close();
  });

  it('"1" then enter in one read: the Create screen that is going away does not ask to create', async () => {
    const app = await renderApp(fx, { initialStep: 'create' });
    try {
      await app.waitFor('2. Create');
      const before = app.frames().length;
      await app.typeAhead('1', KEY.enter);
      await app.waitFor('1. Prerequisites');
      // the check the Prerequisites screen runs by itself when it opens, to its end: every key has been handled
      await app.waitFor(/1\. Prerequisites\s+(✔ done|✘ failed)/);
      const since = app.frames().slice(before);
      expect(since.some((f) => f.includes('Press y to go ahead'))).toBe(false);
      expect(app.frame()).not.toContain('Press y to go ahead');
      // nothing was created
      const created = await fx.admin.query(`SELECT to_regclass('public.petri_observations_partitioned') AS t`);
      expect(created.rows[0].t).toBeNull();
    } finally {
      await app.close();
    }
  });

  it('tab then enter in one read: the step left behind does not run', async () => {
    const app = await renderApp(fx, { initialStep: 'create' });
    try {
      await app.waitFor('2. Create');
      const before = app.frames().length;
      await app.typeAhead(KEY.tab, KEY.enter);
      const f = await app.waitFor('3. Verify');
      expect(app.frames().slice(before).some((x) => x.includes('Press y to go ahead'))).toBe(false);
      expect(f).not.toContain('Press y to go ahead');
    } finally {
      await app.close();
    }
  });
});
