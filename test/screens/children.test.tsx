/**
 * Issue 17 on the screens: the tables whose foreign key lacks the key, in Create (column to add, then added), Migrate
 * (their back-fill, then ready) and Swap (ready, then foreign key replaced). Real database; the screens render the
 * state the engine reads (src/state/children.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHILDREN_SQL } from '../helpers/children.js';
import { engineContext } from '../helpers/engine.js';
import { runVerifyData } from '../../src/steps/verifyData.js';
import { demoDatabase, KEY, renderApp, type DatabaseFixture, type Harness } from './harness.js';

describe('the referencing tables on the Create, Migrate and Swap screens (real database)', () => {
  let fx: DatabaseFixture;
  let app: Harness;
  beforeAll(async () => {
    fx = await demoDatabase({ rows: 2000, programs: 3, prefix: 'pw_screens_children' });
    await fx.admin.query(CHILDREN_SQL);
    app = await renderApp(fx, { initialStep: 'create' });
    await app.waitFor('2. Create');
  });
  afterAll(async () => {
    await app?.close();
    await fx?.close();
  });

  it('Create lists them with the column to add, then added', async () => {
    await app.waitFor(/public\.obs_notes\s+column to add/);
    expect(app.frame()).toMatch(/public\.obs_splits\s+column to add/);
    await app.press(KEY.enter);
    await app.waitFor('Press y to go ahead');
    expect(app.frame()).toMatch(/public\.obs_notes, public\.obs_splits get the column/);
    await app.press('y');
    const f = await app.waitFor(/2\. Create\s+(✔ done|✘ failed)/, 90_000);
    expect(f).toContain('✔ done');
    await app.waitFor(/public\.obs_notes\s+column added/);
  });

  it('Migrate shows their back-fill, then ready; Swap shows the foreign key replaced', async () => {
    await app.press('5');
    await app.waitFor('5. Migrate');
    expect(app.frame()).toMatch(/Back-fill of program_id in the referencing tables/);
    await app.press(KEY.enter);
    await app.waitFor('Press y to go ahead');
    await app.press('y');
    const f = await app.waitFor(/5\. Migrate\s+(✔ done|✘ failed)/, 90_000);
    expect(f).toContain('✔ done');
    const ready = await app.waitFor(/public\.obs_splits\s+█+\s+100%\s+[\d,]+ set\s+ready/);
    expect(ready).toMatch(/public\.obs_notes\s+█+\s+100%\s+2,500 set\s+ready/);

    const { ctx, close } = await engineContext(fx.db.config);
    try {
      expect((await runVerifyData(ctx)).exitCode).toBe(0);
    } finally {
      await close();
    }
    await app.press('6');
    await app.waitFor('6. Swap');
    await app.waitFor(/their foreign key becomes \(columns, program_id\) at the swap/);
    expect(app.frame()).toMatch(/public\.obs_notes\s+█+\s+100%\s+2,500 set\s+ready/);
    await app.waitFor('the data is verified: swap the copy in');
    await app.press(KEY.enter);
    await app.waitFor('Type petri_observations and press enter');
    await app.press(`petri_observations${KEY.enter}`);
    const s = await app.waitFor(/6\. Swap\s+(✔ done|✘ failed)/, 90_000);
    expect(s).toContain('✔ done');
    await app.waitFor(/public\.obs_notes\s+.*foreign key replaced/);
  });
});
