import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BATCH_SIZES, stepThrough } from '../../src/hooks/useControls.js';
import { demoDatabase, KEY, renderApp, type DatabaseFixture, type Harness } from './harness.js';

/**
 * One migration walked through the screens in order on a real database with more programs than fit on the screen:
 * Create (y), Verify, Test insert (y), Migrate (y, windowed bars), Swap (typing the table name).
 */
describe('checklist walk: create, verify, test insert, migrate, swap (real database, 30 programs)', () => {
  let fx: DatabaseFixture;
  let app: Harness;
  const count = async (sql: string) => Number((await fx.admin.query(sql)).rows[0].n);

  beforeAll(async () => {
    fx = await demoDatabase({ rows: 6000, programs: 30 });
    // The demo's child table references petri_observations by observation_id alone, which a partitioned table cannot
    // carry (docs/behaviours/foreign-key-into-partitioned-table.md): swap refuses it (shown in errors.test.tsx). This
    // walk is about the screens, so the DBA's fix is applied up front.
    await fx.admin.query(`DROP TABLE public.petri_images`);
    app = await renderApp(fx, { initialStep: 'create' });
    await app.waitFor('2. Create');
  });
  afterAll(async () => {
    await app?.close();
    await fx?.close();
  });

  it('Create asks y; any other key cancels and changes nothing', async () => {
    await app.press(KEY.enter);
    await app.waitFor('Press y to go ahead');
    await app.press('n');
    await app.waitFor((f) => !f.includes('Press y to go ahead'));
    expect(await count(`SELECT count(*) AS n FROM pg_class WHERE relname = 'petri_observations_partitioned'`)).toBe(0);
  });

  it('Create with y builds the partitioned table and lists each step', async () => {
    await app.press(KEY.enter);
    await app.waitFor('Press y to go ahead');
    await app.press('y');
    const f = await app.waitFor(/2\. Create\s+(✔ done|✘ failed)/, 90_000);
    expect(f).toContain('✔ done');
    // 30 lookup rows: 30 partitions plus the default
    expect(await count(`SELECT count(*) AS n FROM pg_inherits WHERE inhparent = 'public.petri_observations_partitioned'::regclass`)).toBe(31);
  });

  it('Verify compares the structure', async () => {
    await app.press('3');
    await app.waitFor('3. Verify');
    await app.press(KEY.enter);
    const f = await app.waitFor(/3\. Verify\s+(✔ done|✘ failed)/, 60_000);
    expect(f).toMatch(/\d+ ok · \d+ warn · 0 fail/);
  });

  it('Test insert asks y, then compares the plans and removes the sample', async () => {
    await app.press('4');
    await app.waitFor('4. Test insert');
    await app.press(KEY.enter);
    await app.waitFor('Press y to go ahead');
    await app.press('y');
    const f = await app.waitFor(/4\. Test insert\s+(✔ done|✘ failed)/, 90_000);
    expect(f).toContain('✔ done');
    expect(f).toMatch(/subquery\s+partitioned/);
    expect(await count(`SELECT count(*) AS n FROM public.petri_observations_partitioned`)).toBe(0);
  });

  it('Migrate asks y, copies every program, and windows the 31 progress bars', async () => {
    await app.press('5');
    await app.waitFor('5. Migrate');
    await app.press('m', 'm', 'm');
    await app.waitFor('every program at once');
    await app.press(KEY.enter);
    await app.waitFor('Press y to go ahead');
    await app.press('y');
    const f = await app.waitFor(/5\. Migrate\s+(✔ done|✘ failed)/, 120_000);
    expect(f).toContain('✔ done');
    // more programs than rows: only a window is drawn, with the rest counted
    expect(f).toMatch(/↓ \d+ more/);
    const drawn = f.split('\n').filter((l) => /\d+%.*\s(done|waiting|copying|paused|verifying|failed)$/.test(l)).length;
    expect(drawn).toBeGreaterThan(0);
    expect(drawn).toBeLessThan(31);
    expect(f).toMatch(/overall .* 6,000\/6,000 +100%/);
    await app.press(KEY.pageDown);
    await app.waitFor(/↑ \d+ more/);
    expect(await count(`SELECT count(*) AS n FROM public.petri_observations_partitioned`)).toBe(6000);
  });

  it('Migrate controls: p pauses and resumes through the journal, b/B and +/- change batch and rate', async () => {
    await app.press('p');
    await app.waitFor('PAUSED');
    expect((await fx.admin.query(`SELECT paused FROM partwise.control`)).rows[0].paused).toBe(true);
    await app.press(' ');
    await app.waitFor((f) => !f.includes('PAUSED'));
    const initial = (await fx.admin.query(`SELECT batch_size, max_rate FROM partwise.control`)).rows[0] as { batch_size: number; max_rate: number | null };
    expect(initial.max_rate).toBeNull();
    const smaller = stepThrough(BATCH_SIZES, initial.batch_size, -1);
    await app.press('b');
    await app.waitFor(`batch ${smaller.toLocaleString('en-US')} rows`);
    await app.press('-');
    await app.waitFor('rate 100,000 rows/s');
    await app.press('-', 'B');
    await app.waitFor(`batch ${stepThrough(BATCH_SIZES, smaller, 1).toLocaleString('en-US')} rows`);
    await app.waitFor('rate 50,000 rows/s');
    const c = (await fx.admin.query(`SELECT paused, batch_size, max_rate FROM partwise.control`)).rows[0];
    expect(c).toEqual({ paused: false, batch_size: stepThrough(BATCH_SIZES, smaller, 1), max_rate: 50000 });
    await app.press('+', '+');
    await app.waitFor('rate no limit');
  });

  it('Swap needs the table name typed exactly; a wrong name changes nothing', async () => {
    // the swap asks only once the data is verified (before that it gets the state's answer, see errors.test.tsx)
    await app.press('3');
    await app.waitFor('3. Verify');
    await app.press('d');
    await app.waitFor(/3\. Verify\s+(✔ done|✘ failed)/, 60_000);
    await app.waitFor('Data: row counts');
    await app.press('6');
    await app.waitFor('6. Swap');
    await app.press(KEY.enter);
    await app.waitFor('Type petri_observations and press enter');
    await app.press(...'petri_obs'.split(''), KEY.enter);
    await app.waitFor('That is not the table name');
    expect(await count(`SELECT count(*) AS n FROM pg_class WHERE relname = 'petri_observations_old'`)).toBe(0);
    await app.press(KEY.esc);
    await app.waitFor((f) => !f.includes('That is not the table name'));
  });

  it('Swap with the table name typed swaps the tables (after verify --data)', async () => {
    await app.press(KEY.enter);
    await app.waitFor('Type petri_observations and press enter');
    // pasted in one piece with its enter, as a terminal (or tmux send-keys) delivers a paste
    await app.press(`petri_observations${KEY.enter}`);
    const f = await app.waitFor(/6\. Swap\s+(✔ done|✘ failed)/, 90_000);
    expect(f).toContain('✔ done');
    expect(f).toMatch(/1✔Prerequisites 2✔Create 3✔Verify 4✔Test insert 5✔Migrate ›6✔Swap/);
    expect(await count(`SELECT count(*) AS n FROM pg_class WHERE relname = 'petri_observations' AND relkind = 'p'`)).toBe(1);
    expect(await count(`SELECT count(*) AS n FROM public.petri_observations`)).toBe(6000);
  });
});
