/**
 * The switch holds nothing the application waits for until its gate has passed, and from then on waits only briefly
 * (docs/behaviours/deadlock-victim-is-the-first-waiter.md). Here a session holds SHARE UPDATE EXCLUSIVE on the original
 * (as autovacuum would), so the swap waits for its very first lock; meanwhile the application writes a row of the
 * original and reads the new table in one transaction, and must not wait for the swap at all (an earlier order took
 * the new table's ACCESS EXCLUSIVE lock first: the application's read then waited, and with the swap's 10 s
 * lock_timeout, longer than the database's deadlock_timeout, the application was ended as the deadlock victim).
 */
import { afterEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { runSwap } from '../src/steps/swap.js';
import { createTestDatabase, withClient, type TestDatabase } from './helpers/db.js';
import { engineContext } from './helpers/engine.js';
import { connect } from './helpers/moveSetup.js';
import { createMigrateVerify, seedScenario } from './helpers/swapScenario.js';
import { waitUntil } from './helpers/waitUntil.js';

const S = 'public.petri_observations';
const N = 'public.petri_observations_partitioned';

async function waiting(watch: pg.Client, pid: number, table: string): Promise<boolean> {
  return (await watch.query(`SELECT 1 FROM pg_locks WHERE pid = $1 AND NOT granted AND relation = $2::regclass`, [pid, table])).rowCount === 1;
}

describe('the switch and the application: no lock cycle before the gate', () => {
  let db: TestDatabase | undefined;
  afterEach(async () => {
    await db?.drop();
    db = undefined;
  });

  it('swap waiting for its first lock holds nothing the application needs: the application writes the original and reads the new table meanwhile, then the swap goes through', async () => {
    db = await createTestDatabase('pw_test_switch_deadlock');
    await seedScenario(db.config, 2000, 3);
    await withClient(db.config, (c) => c.query(`ALTER DATABASE ${db!.config.database} SET deadlock_timeout = '8s'`));
    const { ctx, close } = await engineContext(db.config, { lockTimeoutMs: 10_000 }, { lockTimeoutMs: 10_000, attempts: 5, baseDelayMs: 50, maxDelayMs: 100 });
    const [holder, app, watch] = [await connect(db.config), await connect(db.config), await connect(db.config)];
    try {
      await createMigrateVerify(ctx);
      const swapPid = (ctx.client as pg.Client & { processID: number }).processID;
      const appPid = (app as pg.Client & { processID: number }).processID;
      await holder.query(`BEGIN; LOCK TABLE ${S} IN SHARE UPDATE EXCLUSIVE MODE`);
      let settled: string | null = null;
      const swap = runSwap(ctx).finally(() => { settled = 'the swap ended'; });
      let seen = '';
      await waitUntil(async () => {
        seen = JSON.stringify((await watch.query(`SELECT relation::regclass::text AS rel, mode, granted FROM pg_locks WHERE pid = $1 AND locktype = 'relation'`, [swapPid])).rows);
        if (settled) throw new Error(`${settled}: ${(await swap).summary}`);
        return waiting(watch, swapPid, S);
      }, { what: 'the swap waiting for its first lock on the original', last: () => seen });
      await app.query(`BEGIN; UPDATE ${S} SET growth_index = growth_index WHERE observation_id = (SELECT observation_id FROM ${S} ORDER BY observation_id LIMIT 1)`);
      // the application is not held by a swap that waits for its first lock
      let readDone = false;
      let sawWait = false;
      const appRead = app.query(`SELECT count(*) FROM ${N}`).then(() => null, (e: { code?: string; message?: string }) => `${e.code}: ${e.message}`).finally(() => { readDone = true; });
      await waitUntil(async () => {
        if (!readDone && (await waiting(watch, appPid, N))) sawWait = true;
        return readDone;
      }, { what: 'the application\'s read of the new table' });
      expect(await appRead).toBeNull();
      expect(sawWait).toBe(false);
      expect(await waiting(watch, swapPid, S)).toBe(true);
      await app.query('COMMIT');
      await holder.query('COMMIT');
      const swapped = await swap;
      expect(swapped.exitCode, swapped.summary).toBe(0);
    } finally {
      for (const c of [holder, app, watch]) await c.end().catch(() => undefined);
      await close();
    }
  }, 120_000);
});
