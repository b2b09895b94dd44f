/**
 * An application transaction that ends up in a lock cycle with the swap, having started to wait first, is not the
 * one PostgreSQL ends (docs/behaviours/deadlock-victim-is-the-first-waiter.md): the switch bounds its waits below
 * deadlock_timeout, gives up and retries. The cycle is built step by step: a session holds SHARE UPDATE EXCLUSIVE on
 * the original (as autovacuum would), so the swap waits there holding the new table; the application writes a row of
 * the original, then reads the new table (waiting for the swap); the holder lets go; the swap then needs EXCLUSIVE
 * on the original, which the application's write holds. The swap runs with a 10 s lock_timeout, longer than the
 * database's deadlock_timeout (8 s here): unbounded, it would wait past the application's deadlock check.
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

describe('the switch is never the reason an application transaction is ended as a deadlock victim', () => {
  let db: TestDatabase | undefined;
  afterEach(async () => {
    await db?.drop();
    db = undefined;
  });

  it('swap: the application waited first in the cycle; the swap gives up within its bound, the application commits, the swap goes through on a retry', async () => {
    db = await createTestDatabase('pw_test_switch_deadlock');
    await seedScenario(db.config, 2000, 3);
    await withClient(db.config, (c) => c.query(`ALTER DATABASE ${db!.config.database} SET deadlock_timeout = '8s'`));
    const { ctx, events, close } = await engineContext(db.config, { lockTimeoutMs: 10_000 }, { lockTimeoutMs: 10_000, attempts: 5, baseDelayMs: 50, maxDelayMs: 100 });
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
      }, { what: 'the swap waiting for the original (holding the new table)', last: () => seen });
      await app.query(`BEGIN; UPDATE ${S} SET growth_index = growth_index WHERE observation_id = (SELECT observation_id FROM ${S} ORDER BY observation_id LIMIT 1)`);
      const appRead = app.query(`SELECT count(*) FROM ${N}`).then(() => null, (e: { code?: string; message?: string }) => `${e.code}: ${e.message}`);
      await waitUntil(() => waiting(watch, appPid, N), { what: 'the application waiting for the new table' });
      await holder.query('COMMIT');
      // the swap now waits for EXCLUSIVE on the original, held by the application's write: the cycle
      expect(await appRead).toBeNull();
      await app.query('COMMIT');
      const swapped = await swap;
      expect(swapped.exitCode, swapped.summary).toBe(0);
      const retries = events.filter((e) => e.type === 'step.retry' && e.step === 'swap');
      expect(retries.length).toBeGreaterThan(0);
    } finally {
      for (const c of [holder, app, watch]) await c.end().catch(() => undefined);
      await close();
    }
  }, 120_000);
});
