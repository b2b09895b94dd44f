/**
 * The SQL panes show what runs: the swap's pane has the lock_timeout the swap runs with (dispatch's shorter one) and
 * its LOCK TABLE statements; after the swap, the rollback's pane has the reverse the swap journaled. The steps were
 * run headless first (as another terminal would), then the app is opened.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runCommand } from '../../src/cli/commands.js';
import { engineContext } from '../helpers/engine.js';
import { demoDatabase, renderApp, type DatabaseFixture, type Harness } from './harness.js';

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

const S = '"public"."petri_observations"';

describe('the SQL panes (real database)', () => {
  it("swap's pane: the swap's real lock_timeout and its LOCK TABLE statements; after it, rollback's pane: the journaled reverse", async () => {
    fx = await demoDatabase({ rows: 800, programs: 2, prefix: 'pw_screens_sql_pane' });
    // the demo's child table references observation_id alone, which the swap refuses (errors.test.tsx shows it)
    await fx.admin.query('DROP TABLE public.petri_images');
    await headless(fx, [['create'], ['migrate', { mode: 'all' }], ['verify', { data: true }]]);
    app = await renderApp(fx, { initialStep: 'swap' });
    await app.resize(200, 80);
    await app.waitFor('6. Swap');
    await app.press('s');
    // the harness's engine runs steps with lock_timeout 300ms; the swap holds writes while it waits: 1000ms
    let f = await app.waitFor("SET LOCAL lock_timeout = '1000ms';");
    expect(f).not.toContain('<--lock-timeout>');
    expect(f).not.toContain("lock_timeout = '300ms'");
    expect(f).toContain(`LOCK TABLE "public"."petri_observations_partitioned" IN ACCESS EXCLUSIVE MODE;`);
    expect(f).toContain(`LOCK TABLE ${S} IN SHARE UPDATE EXCLUSIVE MODE;`);
    expect(f).toContain("SET LOCAL lock_timeout = '250ms';"); // the bounded waits after the first ACCESS EXCLUSIVE
    expect(f).toContain(`LOCK TABLE ${S} IN ACCESS EXCLUSIVE MODE;`);
    await app.close();
    app = undefined;

    await headless(fx, [['swap']]);
    // the reverse the swap journaled, read as any terminal would
    const reverse = (await fx.admin.query<{ r: string[] }>(`SELECT detail->'reverse' AS r FROM partwise.step_log WHERE step = 'swap' AND status = 'done' ORDER BY id DESC LIMIT 1`)).rows[0]!.r;
    const renames = reverse.filter((s) => s.startsWith('ALTER TABLE') && s.includes(' RENAME TO '));
    expect(renames).toEqual([`ALTER TABLE ${S} RENAME TO "petri_observations_partitioned"`, `ALTER TABLE "public"."petri_observations_old" RENAME TO "petri_observations"`]);
    app = await renderApp(fx, { initialStep: 'rollback' });
    await app.resize(200, 120);
    await app.waitFor('R. Rollback');
    await app.press('s');
    f = await app.waitFor("SET LOCAL lock_timeout = '1000ms';");
    expect(f).toContain(`LOCK TABLE "public"."petri_observations_old" IN ACCESS EXCLUSIVE MODE;`);
    for (const r of renames) expect(f).toContain(`${r};`);
  });
});
