/**
 * The checklist tells the truth after a rollback: the steps were run headless (as another terminal would), then the
 * app is opened. After swap → rollback the copy is in sync but the swap is undone and its verification cleared;
 * after rollback → create the new copy has had nothing done to it yet.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runCommand } from '../../src/cli/commands.js';
import { engineContext } from '../helpers/engine.js';
import { demoDatabase, KEY, renderApp, type DatabaseFixture, type Harness } from './harness.js';

/** A frame's text with its line breaks and box borders as single spaces (wrapped sentences read whole). */
const flat = (f: string) => f.replace(/[│\s]+/g, ' ');

let fx: DatabaseFixture | undefined;
let app: Harness | undefined;
afterEach(async () => {
  await app?.close();
  await fx?.close();
  app = undefined;
  fx = undefined;
});

async function headless(fixture: DatabaseFixture, steps: Array<[string, Record<string, string | boolean>?]>) {
  const { ctx, close } = await engineContext(fixture.db.config);
  try {
    for (const [command, flags] of steps) {
      const r = await runCommand(command, ctx, flags ?? {});
      expect(r.exitCode, `${command}: ${r.summary}`).toBe(0);
    }
  } finally {
    await close();
  }
}

async function swappedBack(): Promise<DatabaseFixture> {
  const f = await demoDatabase({ rows: 1500, programs: 3, prefix: 'pw_screens_rollback' });
  // the demo's child table references observation_id alone, which the swap refuses (errors.test.tsx shows it)
  await f.admin.query('DROP TABLE public.petri_images');
  await headless(f, [['create'], ['test-insert', { rows: '20' }], ['migrate', { mode: 'all' }], ['verify', { data: true }], ['swap'], ['rollback']]);
  return f;
}

describe('the checklist after a rollback (real database, steps run headless)', () => {
  it('after swap then rollback: Swap is stale, next is verify --data, the screens say what is true', async () => {
    fx = await swappedBack();
    app = await renderApp(fx);
    // opens on the next step: Verify, with why
    let f = await app.waitFor('3. Verify');
    expect(f).toMatch(/1✔Prerequisites 2✔Create ›3~Verify 4✔Test insert 5✔Migrate 6~Swap 7·Monitor R✔Rollback next: 3/);
    expect(f).toMatch(/the rollback at \d\d:\d\d:\d\d cleared the verification/);
    expect(f).toMatch(/next here \(d\): the rollback cleared the verification: verify --data, then swap/);

    await app.press('6');
    f = await app.waitFor('6. Swap');
    expect(f).toMatch(/6\. Swap\s+~ stale/);
    expect(f).toMatch(/swapped back by the rollback at \d\d:\d\d:\d\d/);
    expect(f).not.toContain('is the partitioned table now');
    expect(f).toContain('enter: swap (type the table name)');
    // swap again before verify --data: the state's answer, not a prompt
    await app.press(KEY.enter);
    f = await app.waitFor('swap refused');
    expect(flat(f)).toMatch(/swap refused: the rollback cleared the verification of \d\d:\d\d:\d\d: run verify --data again, then swap; nothing was changed/);
    expect(f).not.toContain('Type petri_observations');

    await app.press('R');
    f = await app.waitFor('R. Rollback');
    expect(f).toMatch(/R\. Rollback\s+✔ done/);
    expect(f).not.toContain('Before the swap');
    expect(flat(f)).toContain('Swapped back: public.petri_observations is the original again. Rollback now removes public.petri_observations_partitioned');

    await app.press('7');
    f = await app.waitFor(/total \(\d+\)/);
    expect(f).toMatch(/7\. Monitor\s+· pending/);
    expect(f).toContain('petri_observations_partitioned');

    // the side column at a wide terminal says the same
    app.resize(160, 40);
    f = await app.waitFor('Checklist');
    expect(f).toMatch(/6 ~ Swap/);
    expect(f).toMatch(/R ✔ Rollback/);
    expect(f).toMatch(/next: Verify/);
  });

  it('after rollback then create (headless): nothing of the removed copy shows as done', async () => {
    fx = await swappedBack();
    await headless(fx, [['rollback'], ['create']]);
    app = await renderApp(fx);
    let f = await app.waitFor('3. Verify');
    expect(f).toMatch(/1✔Prerequisites 2✔Create ›3~Verify 4~Test insert 5~Migrate 6~Swap 7·Monitor R·Rollback next: 3/);
    await app.press('5');
    f = await app.waitFor('5. Migrate');
    expect(f).toMatch(/5\. Migrate\s+~ stale/);
    expect(f).not.toMatch(/resume at/);
    await app.press('6');
    f = await app.waitFor('6. Swap');
    expect(f).toMatch(/6\. Swap\s+~ stale/);
    expect(f).not.toContain('is the partitioned table now');
    await app.press('R');
    f = await app.waitFor('R. Rollback');
    expect(f).toMatch(/R\. Rollback\s+· pending/);
    expect(flat(f)).toContain('Before the swap: rollback drops public.petri_observations_partitioned');
  });
});
