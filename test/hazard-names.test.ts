/**
 * Issue 12, hazard 8: a named UNIQUE equal to the extended primary key keeps its name through create and swap
 * (ON CONFLICT ON CONSTRAINT <name> goes on working), and an exclusion constraint, which a partitioned table cannot
 * have, makes check fail and the swap refuse until it is dealt with.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { catalogFingerprint, engineContext } from './helpers/engine.js';
import { seedScenario, tableChecksum } from './helpers/swapScenario.js';
import { mismatchesWith, scenarioWriter, writerOps, type Writer } from './helpers/writer.js';
import { takeSnapshot } from '../src/catalog/snapshot.js';
import type { CheckItem } from '../src/events.js';
import { replayBatch } from '../src/move/capture.js';
import { runCheck } from '../src/steps/check.js';
import { runCreate } from '../src/steps/create.js';
import { runMigrate } from '../src/steps/migrate.js';
import { runSwap } from '../src/steps/swap.js';
import { runVerify } from '../src/steps/verify.js';
import { runVerifyData } from '../src/steps/verifyData.js';

const UNIQUE_NAME = 'petri_observations_observation_program_key'; // the demo's UNIQUE (observation_id, program_id)
const RETRY = { lockTimeoutMs: 1000, attempts: 10, baseDelayMs: 50, maxDelayMs: 500 };
const checkItem = (data: unknown, id: string) => (data as { items: CheckItem[] }).items.find((i) => i.id === id);

/** migrate (all programs, small batches so the writer interleaves), then verify --data: both must pass. */
async function migrateAndVerify(ctx: Awaited<ReturnType<typeof engineContext>>['ctx']): Promise<void> {
  const migrated = await runMigrate(ctx, { mode: 'all', batchSize: 300, sleepMs: 10 });
  expect(migrated.exitCode, migrated.summary).toBe(0);
  const verified = await runVerifyData(ctx);
  expect(verified.exitCode, verified.summary).toBe(0);
}

/** After the swap: the reverse-captured old table, once its backlog is applied, equals the new table row for row. */
async function expectOldEqualsNew(ctx: Awaited<ReturnType<typeof engineContext>>['ctx']): Promise<void> {
  const snap = await takeSnapshot(ctx.client, ctx.cfg);
  while ((await replayBatch(ctx.client, snap, ctx.cfg, 'reverse', 10_000)) > 0);
  expect(await tableChecksum(ctx.client, 'public.petri_observations_old')).toEqual(await tableChecksum(ctx.client, 'public.petri_observations'));
}

describe('hazard 8: a UNIQUE equal to the extended primary key', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('pw_test_hazard_names');
    await seedScenario(db.config, 3000, 3);
  });
  afterAll(async () => db?.drop());

  it('stays a constraint of its own with its name: an upserting writer (ON CONFLICT ON CONSTRAINT) sees no error across the swap', async () => {
    const { ctx, close } = await engineContext(db.config, {}, RETRY);
    const app = new pg.Client(db.config);
    await app.connect();
    let writer: Writer | undefined;
    try {
      expect((await runCreate(ctx)).exitCode).toBe(0);
      // on the copy: the primary key and, beside it, the UNIQUE on the same columns under the name the swap gives back
      const onCopy = await ctx.client.query(`SELECT conname, contype::text AS t FROM pg_constraint
                                              WHERE conrelid = 'public.petri_observations_partitioned'::regclass AND contype IN ('p', 'u') ORDER BY 1`);
      expect(onCopy.rows).toEqual([
        { conname: 'petri_observations_partitioned_observation_program_key', t: 'u' },
        { conname: 'petri_observations_partitioned_pkey', t: 'p' },
      ]);
      const structure = await runVerify(ctx);
      expect(checkItem(structure.data, 'constraints')).toMatchObject({ status: 'ok' });

      writer = await scenarioWriter(app, UNIQUE_NAME);
      writer.start();
      await migrateAndVerify(ctx);
      const swapped = await runSwap(ctx);
      expect(swapped.exitCode, swapped.summary).toBe(0);
      await writerOps(writer, 150);
      await writer.stop();
      expect(writer.errors).toEqual([]);
      expect(writer.ledger.size).toBeGreaterThan(100);
      expect(await mismatchesWith(ctx.client, writer)).toEqual([]);

      const after = await ctx.client.query(`SELECT contype::text AS t, pg_get_constraintdef(oid) AS def FROM pg_constraint
                                             WHERE conrelid = 'public.petri_observations'::regclass AND conname = $1`, [UNIQUE_NAME]);
      expect(after.rows).toEqual([{ t: 'u', def: 'UNIQUE (observation_id, program_id)' }]);
      // the conflict path, through the original name, on a row the writer never touched
      const row = (await ctx.client.query(`SELECT observation_id, program_id FROM public.petri_observations WHERE petri_code IS DISTINCT FROM 'writer' LIMIT 1`)).rows[0];
      const n = (await ctx.client.query(`SELECT count(*)::int AS n FROM public.petri_observations`)).rows[0].n;
      await ctx.client.query(`INSERT INTO public.petri_observations (observation_id, program_id, growth_index, lab_id) VALUES ($1, $2, 4242, 1)
                                ON CONFLICT ON CONSTRAINT ${UNIQUE_NAME} DO UPDATE SET growth_index = EXCLUDED.growth_index`, [row.observation_id, row.program_id]);
      expect((await ctx.client.query(`SELECT count(*)::int AS n FROM public.petri_observations`)).rows[0].n).toBe(n);
      expect(Number((await ctx.client.query(`SELECT growth_index FROM public.petri_observations WHERE observation_id = $1`, [row.observation_id])).rows[0].growth_index)).toBe(4242);
      await expectOldEqualsNew(ctx);
    } finally {
      await writer?.stop();
      await app.end();
      await close();
    }
  });
});

describe('hazard 8: an exclusion constraint', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('pw_test_hazard_exclusion');
    await seedScenario(db.config, 3000, 3);
    const c = new pg.Client(db.config);
    await c.connect();
    // one reading per observation id, written as an exclusion constraint (it lacks the key: no partitioned table can have it)
    await c.query(`ALTER TABLE public.petri_observations ADD CONSTRAINT petri_observations_one_reading EXCLUDE USING btree (observation_id WITH =)`);
    await c.end();
  });
  afterAll(async () => db?.drop());

  it('makes check fail and the swap refuse with nothing changed; check\'s repair ends in a swap equal row for row', async () => {
    const { ctx, close } = await engineContext(db.config, {}, RETRY);
    const app = new pg.Client(db.config);
    await app.connect();
    let writer: Writer | undefined;
    try {
      const check = await runCheck(ctx);
      expect(check.exitCode).toBe(3);
      const exclusion = checkItem(check.data, 'exclusion')!;
      expect(exclusion).toMatchObject({ status: 'fail', details: [expect.stringMatching(/^petri_observations_one_reading: EXCLUDE USING btree/)] });
      const repair = /ALTER TABLE \S+ DROP CONSTRAINT "[^"]+"/.exec(exclusion.todo ?? '')?.[0];
      expect(repair).toBe('ALTER TABLE "public"."petri_observations" DROP CONSTRAINT "petri_observations_one_reading"');

      expect((await runCreate(ctx)).exitCode).toBe(0);
      writer = await scenarioWriter(app);
      writer.start();
      await migrateAndVerify(ctx);

      const catalog = await catalogFingerprint(ctx.client);
      const refused = await runSwap(ctx);
      expect(refused.exitCode).not.toBe(0);
      expect(refused.summary).toMatch(/exclusion constraints: petri_observations_one_reading/);
      expect(refused.summary).toMatch(/nothing was changed/);
      expect(await catalogFingerprint(ctx.client)).toBe(catalog);
      await writerOps(writer, 30);

      // the repair check names, then migrate and verify --data again, then the swap
      await ctx.client.query(repair!);
      expect(checkItem((await runCheck(ctx)).data, 'exclusion')).toBeUndefined();
      await migrateAndVerify(ctx);
      const swapped = await runSwap(ctx);
      expect(swapped.exitCode, swapped.summary).toBe(0);
      await writerOps(writer, 100);
      await writer.stop();
      expect(writer.errors).toEqual([]);
      expect(await mismatchesWith(ctx.client, writer)).toEqual([]);
      await expectOldEqualsNew(ctx);
    } finally {
      await writer?.stop();
      await app.end();
      await close();
    }
  });
});
