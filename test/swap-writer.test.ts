import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { engineContext } from './helpers/engine.js';
import { seedScenario, tableChecksum } from './helpers/swapScenario.js';
import { waitUntil } from './helpers/waitUntil.js';
import { takeSnapshot } from '../src/catalog/snapshot.js';
import { replayBatch } from '../src/move/capture.js';
import { runCreate } from '../src/steps/create.js';
import { runMigrate } from '../src/steps/migrate.js';
import { runSwap } from '../src/steps/swap.js';
import { runRollback } from '../src/steps/rollback.js';
import { runVerifyData } from '../src/steps/verifyData.js';
import { mismatchesWith, scenarioWriter, type Writer } from './helpers/writer.js';

describe('migrate, verify --data, swap and rollback under a concurrent writer', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('pw_test_swap_writer');
    await seedScenario(db.config, 5000, 4);
  });
  afterAll(async () => db?.drop());

  it('after the swap (and after a rollback) the table equals what the writer produced, and the writer saw no errors', async () => {
    const { ctx, close } = await engineContext(db.config, {}, { lockTimeoutMs: 1000, attempts: 10, baseDelayMs: 50, maxDelayMs: 500 });
    const app = new pg.Client(db.config);
    await app.connect();
    let writer: Writer | undefined;
    try {
      expect((await runCreate(ctx)).exitCode).toBe(0);
      writer = await scenarioWriter(app);
      writer.start();

      const migrated = await runMigrate(ctx, { mode: 'all', batchSize: 300, sleepMs: 10 });
      expect(migrated.exitCode, migrated.summary).toBe(0);
      const verified = await runVerifyData(ctx);
      expect(verified.exitCode, verified.summary).toBe(0);
      const opsAtSwap = writer.ops;
      expect(opsAtSwap).toBeGreaterThan(20);
      const swapped = await runSwap(ctx);
      expect(swapped.exitCode, swapped.summary).toBe(0);
      // keep writing after the swap for a while (counted in operations, not time)
      await waitUntil(() => writer!.ops >= opsAtSwap + 150, { what: '150 writes after the swap' });
      await writer.stop();

      expect(writer.errors).toEqual([]);
      expect(writer.ledger.size).toBeGreaterThan(100);
      // every row the writer touched is exactly as the writer left it
      expect(await mismatchesWith(ctx.client, writer)).toEqual([]);

      // and the reverse-captured old table, once its backlog is applied, equals the partitioned table row for row
      const snap = await takeSnapshot(ctx.client, ctx.cfg);
      while ((await replayBatch(ctx.client, snap, ctx.cfg, 'reverse', 10_000)) > 0);
      expect(await tableChecksum(ctx.client, 'public.petri_observations_old')).toEqual(await tableChecksum(ctx.client, 'public.petri_observations'));

      // rollback under the same writer: the restored original holds every write, before, during and after it
      writer.start();
      const opsAtRollback = writer.ops;
      await waitUntil(() => writer!.ops >= opsAtRollback + 100, { what: '100 writes before the rollback' });
      const rolled = await runRollback(ctx);
      expect(rolled.exitCode, rolled.summary).toBe(0);
      const opsAfterRollback = writer.ops;
      await waitUntil(() => writer!.ops >= opsAfterRollback + 100, { what: '100 writes after the rollback' });
      await writer.stop();
      expect(writer.errors).toEqual([]);
      expect((await ctx.client.query(`SELECT relkind::text AS k FROM pg_class WHERE oid = 'public.petri_observations'::regclass`)).rows[0].k).toBe('r');
      expect(await mismatchesWith(ctx.client, writer)).toEqual([]);
      // the copy is kept in sync by forward capture again
      const snap2 = await takeSnapshot(ctx.client, ctx.cfg);
      while ((await replayBatch(ctx.client, snap2, ctx.cfg, 'forward', 10_000)) > 0);
      expect(await tableChecksum(ctx.client, 'public.petri_observations_partitioned')).toEqual(await tableChecksum(ctx.client, 'public.petri_observations'));
    } finally {
      await writer?.stop();
      await app.end();
      await close();
    }
  });
});
