/**
 * Issue 12, hazard 6: a table with an inheritance child. `SELECT ... FROM t` returns the child's rows too, a
 * partitioned table cannot have such a child, and partwise copies the table's own rows: check fails, the swap refuses
 * (also for a child added after verify --data), and the repair check names (move the rows, NO INHERIT) ends in a
 * swap that keeps every row.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createTestDatabase, withClient, type TestDatabase } from './helpers/db.js';
import { catalogFingerprint, engineContext } from './helpers/engine.js';
import { seedScenario, tableChecksum } from './helpers/swapScenario.js';
import { mismatchesWith, scenarioWriter, writerOps, type Writer } from './helpers/writer.js';
import { takeSnapshot } from '../src/catalog/snapshot.js';
import type { CheckItem } from '../src/events.js';
import { replayBatch } from '../src/move/capture.js';
import type { StepContext } from '../src/steps/context.js';
import { runCheck } from '../src/steps/check.js';
import { runCreate } from '../src/steps/create.js';
import { runMigrate } from '../src/steps/migrate.js';
import { runSwap } from '../src/steps/swap.js';
import { runVerifyData } from '../src/steps/verifyData.js';

const RETRY = { lockTimeoutMs: 1000, attempts: 10, baseDelayMs: 50, maxDelayMs: 500 };
const checkItem = (data: unknown, id: string) => (data as { items: CheckItem[] }).items.find((i) => i.id === id);
// the source's columns a child can be given values for (growth_band is generated)
const COLS = ['observation_id', 'program_id', 'seq_no', 'legacy_no', 'phase', 'tags', 'metadata', 'growth_index', 'daysInThisProgramPhase', 'petri_code', 'observed_at', 'updated_at', 'lab_id']
  .map((c) => `"${c}"`).join(', ');

/** A child of the table holding `n` rows marked `mark`, as an archive made with INHERITS would. */
async function addChild(c: pg.ClientBase, name: string, n: number, mark: string): Promise<void> {
  await c.query(`CREATE TABLE public.${name} () INHERITS (public.petri_observations)`);
  await c.query(`INSERT INTO public.${name} (program_id, seq_no, petri_code, lab_id)
                   SELECT (SELECT program_id FROM public.pilot_programs ORDER BY created_at LIMIT 1), 10000000 + g, $2, 1 FROM generate_series(1, $1::int) g`, [n, mark]);
}

async function migrateAndVerify(ctx: StepContext): Promise<void> {
  const migrated = await runMigrate(ctx, { mode: 'all', batchSize: 300, sleepMs: 10 });
  expect(migrated.exitCode, migrated.summary).toBe(0);
  const verified = await runVerifyData(ctx);
  expect(verified.exitCode, verified.summary).toBe(0);
}

/** The swap refuses, naming the child, and changes nothing. */
async function expectRefused(ctx: StepContext, child: string): Promise<void> {
  const catalog = await catalogFingerprint(ctx.client);
  const refused = await runSwap(ctx);
  expect(refused.exitCode).not.toBe(0);
  expect(refused.summary).toContain(`inheritance children: public.${child}`);
  expect(refused.summary).toMatch(/nothing was changed/);
  expect(await catalogFingerprint(ctx.client)).toBe(catalog);
}

/** The repair check names, run as it is written: the child's rows moved into the table, the child detached. */
async function repair(ctx: StepContext, child: string): Promise<void> {
  const check = await runCheck(ctx);
  const item = checkItem(check.data, 'inheritance')!;
  expect(item).toMatchObject({ status: 'fail', details: [expect.stringMatching(new RegExp(`^public\\.${child}: `))] });
  const move = /BEGIN; .*?; COMMIT/.exec(item.todo ?? '')?.[0];
  const c = `"public"."${child}"`;
  expect(move).toBe(`BEGIN; LOCK TABLE ONLY ${c} IN EXCLUSIVE MODE; WITH moved AS (DELETE FROM ONLY ${c} RETURNING ${COLS}) ` +
    `INSERT INTO "public"."petri_observations" (${COLS}) SELECT ${COLS} FROM moved; ALTER TABLE ${c} NO INHERIT "public"."petri_observations"; COMMIT`);
  await ctx.client.query(move!);
  expect(checkItem((await runCheck(ctx)).data, 'inheritance')).toMatchObject({ status: 'ok' });
}

/** The ids of the rows marked `mark` that a query on the table returns. */
const marked = async (c: pg.ClientBase, mark: string) =>
  (await c.query(`SELECT observation_id FROM public.petri_observations WHERE petri_code = $1 ORDER BY 1`, [mark])).rows.map((r) => r.observation_id as string);

describe('hazard 6: an inheritance child', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('pw_test_hazard_inherit');
    await seedScenario(db.config, 3000, 3);
    await withClient(db.config, (c) => addChild(c, 'petri_observations_archive', 500, 'archived'));
  });
  afterAll(async () => db?.drop());

  it('makes check fail and the swap refuse (also for a child added after verify --data); the repair keeps every row', async () => {
    const { ctx, close } = await engineContext(db.config, {}, RETRY);
    const app = new pg.Client(db.config);
    await app.connect();
    let writer: Writer | undefined;
    try {
      const check = await runCheck(ctx);
      expect(check.exitCode).toBe(3);
      expect(checkItem(check.data, 'inheritance')).toMatchObject({ status: 'fail', reason: expect.stringMatching(/would vanish/) });
      // the application sees the child's rows through the table
      const archived = await marked(ctx.client, 'archived');
      expect(archived.length).toBe(500);

      expect((await runCreate(ctx)).exitCode).toBe(0);
      writer = await scenarioWriter(app);
      writer.start();
      await migrateAndVerify(ctx);
      await expectRefused(ctx, 'petri_observations_archive');
      await repair(ctx, 'petri_observations_archive');
      await migrateAndVerify(ctx);

      // a child made after verify --data: refused too
      await withClient(db.config, (c) => addChild(c, 'petri_observations_late', 10, 'late'));
      const late = await marked(ctx.client, 'late');
      expect(late.length).toBe(10);
      await writerOps(writer, 20);
      await expectRefused(ctx, 'petri_observations_late');
      await repair(ctx, 'petri_observations_late');
      await migrateAndVerify(ctx);

      const swapped = await runSwap(ctx);
      expect(swapped.exitCode, swapped.summary).toBe(0);
      await writerOps(writer, 100);
      await writer.stop();
      expect(writer.errors).toEqual([]);
      expect(await mismatchesWith(ctx.client, writer)).toEqual([]);
      // every row the application saw is still there (but those the writer deleted), now in the partitioned table itself
      const kept = (ids: string[]) => ids.filter((id) => writer!.ledger.get(id) !== null);
      expect(await marked(ctx.client, 'archived')).toEqual(kept(archived));
      expect(await marked(ctx.client, 'late')).toEqual(kept(late));
      const snap = await takeSnapshot(ctx.client, ctx.cfg);
      while ((await replayBatch(ctx.client, snap, ctx.cfg, 'reverse', 10_000)) > 0);
      expect(await tableChecksum(ctx.client, 'public.petri_observations_old')).toEqual(await tableChecksum(ctx.client, 'public.petri_observations'));
    } finally {
      await writer?.stop();
      await app.end();
      await close();
    }
  });

  it('a child made while the swap waits for its first lock: the gate under the locks refuses; the repair keeps every row', async () => {
    const under = await createTestDatabase('pw_test_hazard_inherit_lock');
    const { ctx, close } = await engineContext(under.config, {}, RETRY);
    const app = new pg.Client(under.config);
    const holder = new pg.Client(under.config);
    let writer: Writer | undefined;
    try {
      await seedScenario(under.config, 3000, 3);
      await app.connect();
      await holder.connect();
      expect((await runCreate(ctx)).exitCode).toBe(0);
      writer = await scenarioWriter(app);
      writer.start();
      await migrateAndVerify(ctx);

      // another session holds the copy, which the swap locks first; the child appears while the swap waits for it
      await holder.query('BEGIN');
      await holder.query(`LOCK TABLE public.petri_observations_partitioned IN ACCESS SHARE MODE`);
      const catalog = await withClient(under.config, (c) => catalogFingerprint(c));
      const swap = runSwap(ctx);
      const swapPid = (ctx.client as pg.Client & { processID: number }).processID;
      await withClient(under.config, async (c) => {
        while ((await c.query(`SELECT 1 FROM pg_locks WHERE pid = $1 AND NOT granted AND relation = 'public.petri_observations_partitioned'::regclass`, [swapPid])).rowCount === 0) {
          await new Promise((r) => setTimeout(r, 20));
        }
        await addChild(c, 'petri_observations_during', 20, 'during');
      });
      const during = await withClient(under.config, (c) => marked(c, 'during'));
      await holder.query('COMMIT');
      const refused = await swap;
      expect(refused.exitCode, refused.summary).toBe(3);
      expect(refused.summary).toMatch(/refused under its locks: .*inheritance child public\.petri_observations_during was added/);
      // nothing changed but the child itself
      expect((await ctx.client.query(`SELECT relkind::text AS k FROM pg_class WHERE oid = 'public.petri_observations'::regclass`)).rows[0].k).toBe('r');
      const now = (await catalogFingerprint(ctx.client)).split('\n').filter((l) => !l.includes('petri_observations_during')).join('\n');
      expect(now).toBe(catalog);

      await repair(ctx, 'petri_observations_during');
      await migrateAndVerify(ctx);
      const swapped = await runSwap(ctx);
      expect(swapped.exitCode, swapped.summary).toBe(0);
      await writerOps(writer, 50);
      await writer.stop();
      expect(writer.errors).toEqual([]);
      expect(await mismatchesWith(ctx.client, writer)).toEqual([]);
      expect(await marked(ctx.client, 'during')).toEqual(during.filter((id) => writer!.ledger.get(id) !== null));
      const snap = await takeSnapshot(ctx.client, ctx.cfg);
      while ((await replayBatch(ctx.client, snap, ctx.cfg, 'reverse', 10_000)) > 0);
      expect(await tableChecksum(ctx.client, 'public.petri_observations_old')).toEqual(await tableChecksum(ctx.client, 'public.petri_observations'));
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      await writer?.stop();
      await holder.end().catch(() => undefined);
      await app.end().catch(() => undefined);
      await close();
      await under.drop();
    }
  });
});
