/**
 * The swap and the rollback lock the table the application does not use first. Autovacuum working on a freshly filled
 * partition (or on the old table after the swap) holds SHARE UPDATE EXCLUSIVE; had the swap already locked the
 * original table while it waited for that, every application write would wait too (a benchmark run: 3.6 s). Here a
 * session holds that lock like autovacuum would, and a write with a short lock_timeout must get through meanwhile.
 */
import { afterEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { runRollback } from '../src/steps/rollback.js';
import { runSwap } from '../src/steps/swap.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { engineContext } from './helpers/engine.js';
import { connect } from './helpers/moveSetup.js';
import { createMigrateVerify, seedScenario } from './helpers/swapScenario.js';
import { waitUntil } from './helpers/waitUntil.js';

/** Waits until the swap's (or rollback's) session is waiting for a lock on `table`. */
async function waitingFor(config: pg.ClientConfig, pid: number, table: string): Promise<void> {
  const c = await connect(config);
  try {
    const waiting = async () => (await c.query(`SELECT 1 FROM pg_locks WHERE pid = $1 AND NOT granted AND relation = $2::regclass`, [pid, table])).rowCount;
    await waitUntil(waiting, { what: `session ${pid} to wait for a lock on ${table}` });
  } finally {
    await c.end();
  }
}

/** Holds SHARE UPDATE EXCLUSIVE (what autovacuum takes) on `table` until release(). */
async function holdLikeAutovacuum(config: pg.ClientConfig, table: string): Promise<{ release(): Promise<void> }> {
  const c = await connect(config);
  await c.query('BEGIN');
  await c.query(`LOCK TABLE ${table} IN SHARE UPDATE EXCLUSIVE MODE`);
  return {
    async release() {
      await c.query('COMMIT');
      await c.end();
    },
  };
}

/** One application write through the original name that gives up after 300 ms of waiting for a lock. */
async function applicationWrite(config: pg.ClientConfig): Promise<void> {
  const c = await connect(config);
  try {
    await c.query(`SET lock_timeout = '300ms'`);
    await c.query(`UPDATE public.petri_observations SET growth_index = growth_index WHERE observation_id = (SELECT observation_id FROM public.petri_observations ORDER BY observation_id LIMIT 1)`);
  } finally {
    await c.end();
  }
}

/** What the swap's (or rollback's) session holds on the table the application writes, while it waits. */
async function heldOn(config: pg.ClientConfig, pid: number, table: string): Promise<string[]> {
  const c = await connect(config);
  try {
    return (await c.query(`SELECT mode FROM pg_locks WHERE pid = $1 AND granted AND relation = $2::regclass`, [pid, table])).rows.map((r) => r.mode);
  } finally {
    await c.end();
  }
}

describe('swap and rollback wait for autovacuum without holding the application', () => {
  let db: TestDatabase | undefined;
  afterEach(async () => {
    await db?.drop();
    db = undefined;
  });

  it('swap: a partition of the new table held; the original stays writable while the swap waits, then the swap goes through', async () => {
    db = await createTestDatabase('pw_test_swap_order');
    await seedScenario(db.config, 2000, 3);
    const { ctx, close } = await engineContext(db.config, {}, { lockTimeoutMs: 1000, attempts: 5, baseDelayMs: 50, maxDelayMs: 100 });
    try {
      await createMigrateVerify(ctx);
      const part = (await ctx.client.query(`SELECT inhrelid::regclass::text AS p FROM pg_inherits WHERE inhparent = 'public.petri_observations_partitioned'::regclass ORDER BY 1 LIMIT 1`)).rows[0].p as string;
      const vacuum = await holdLikeAutovacuum(db.config, part);
      const swap = runSwap(ctx);
      await waitingFor(db.config, (ctx.client as pg.Client & { processID: number }).processID, part);
      // at most SHARE UPDATE EXCLUSIVE (no DDL), which blocks no read or write of the application
      expect((await heldOn(db.config, (ctx.client as pg.Client & { processID: number }).processID, 'public.petri_observations')).filter((m) => m !== 'ShareUpdateExclusiveLock')).toEqual([]);
      await applicationWrite(db.config); // throws "canceling statement due to lock timeout" if the swap held the original
      await vacuum.release();
      const swapped = await swap;
      expect(swapped.exitCode, swapped.summary).toBe(0);
    } finally {
      await close();
    }
  }, 60_000);

  it('rollback after the swap: the old table held; the partitioned table stays writable while the rollback waits', async () => {
    db = await createTestDatabase('pw_test_rollback_order');
    await seedScenario(db.config, 2000, 3);
    const { ctx, close } = await engineContext(db.config, {}, { lockTimeoutMs: 1000, attempts: 5, baseDelayMs: 50, maxDelayMs: 100 });
    try {
      await createMigrateVerify(ctx);
      expect((await runSwap(ctx)).exitCode).toBe(0);
      const vacuum = await holdLikeAutovacuum(db.config, 'public.petri_observations_old');
      const rollback = runRollback(ctx);
      await waitingFor(db.config, (ctx.client as pg.Client & { processID: number }).processID, 'public.petri_observations_old');
      // at most SHARE UPDATE EXCLUSIVE (no DDL), which blocks no read or write of the application
      expect((await heldOn(db.config, (ctx.client as pg.Client & { processID: number }).processID, 'public.petri_observations')).filter((m) => m !== 'ShareUpdateExclusiveLock')).toEqual([]);
      await applicationWrite(db.config);
      await vacuum.release();
      const back = await rollback;
      expect(back.exitCode, back.summary).toBe(0);
    } finally {
      await close();
    }
  }, 60_000);
});
