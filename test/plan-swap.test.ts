import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, withClient, type TestDatabase } from './helpers/db.js';
import { catalogFingerprint, engineContext, fixture } from './helpers/engine.js';
import { takeSnapshot } from '../src/catalog/snapshot.js';
import { byteLength } from '../src/config/names.js';
import { runCreate } from '../src/steps/create.js';
import { indexNamePairs, planSwap } from '../src/plan/planSwap.js';
import { planRollbackBeforeSwap } from '../src/plan/planRollback.js';
import { PlanError } from '../src/plan/planCreate.js';
import type { ConfigInput } from '../src/config/config.js';

const HOSTILE: ConfigInput = {
  schema: 'Shop', table: 'Sales', key: 'RegionCode', lookup: 'Regions', lookupKey: 'RegionCode', lookupLabel: 'Label',
  partitionName: 'sales_{key}', defaultPartition: 'sales_default', newTable: 'Sales; new', oldTable: 'Sales"; old',
};

/** Runs statements in one transaction (as the swap does), search_path = pg_catalog like the plan's SQL. */
async function runAll(client: import('pg').ClientBase, statements: string[]) {
  await client.query('BEGIN');
  try {
    await client.query(`SELECT set_config('search_path', 'pg_catalog, pg_temp', true)`);
    for (const s of statements) await client.query(s);
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK');
    throw e;
  }
}

describe('planSwap on quoted mixed-case names and hostile old/new table names', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('pw_test_plan_swap');
    await withClient(db.config, (c) => c.query(fixture('text-key.sql') + `
      CREATE VIEW "Shop"."Big Sales" AS SELECT "SaleId", "RegionCode", amount FROM "Shop"."Sales" WHERE amount > 100;
      CREATE FUNCTION "Shop"."sales; count"() RETURNS bigint LANGUAGE sql BEGIN ATOMIC SELECT count(*) FROM "Shop"."Sales"; END;
      CREATE FUNCTION "Shop".touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.created := now(); RETURN NEW; END $$;
      CREATE TRIGGER "Touch; it" BEFORE UPDATE ON "Shop"."Sales" FOR EACH ROW EXECUTE FUNCTION "Shop".touch();
      ALTER TABLE "Shop"."Sales" REPLICA IDENTITY FULL;`));
  });
  afterAll(async () => db?.drop());

  it('quotes every name, fits renamed index names in 63 bytes, and the reverse restores the catalog exactly', async () => {
    const { ctx, close } = await engineContext(db.config, HOSTILE);
    try {
      expect((await runCreate(ctx)).exitCode).toBe(0);
      const snap = await takeSnapshot(ctx.client, ctx.cfg);
      const plan = planSwap(snap, ctx.cfg);
      const all = [...plan.statements, ...plan.reverse].join('\n');
      // the hostile names only ever appear quoted (a raw `Sales"; old` would end the identifier early)
      expect(all).toContain('"Shop"."Sales""; old"');
      expect(all).not.toMatch(/[^"]"Sales"; old/);
      expect(all).toContain('"Shop"."Sales; new"');
      expect(plan.statements).toContain('ALTER TABLE "Shop"."Sales" RENAME TO "Sales""; old"');
      expect(plan.statements).toContain('ALTER TABLE "Shop"."Sales; new" RENAME TO "Sales"');
      expect(plan.statements).toContain('ALTER TABLE "Shop"."Sales""; old" DISABLE TRIGGER "Touch; it"');
      expect(plan.reverse).toContain('ALTER TABLE "Shop"."Sales""; old" ENABLE TRIGGER "Touch; it"');
      expect(plan.reverse).toContain('DROP TRIGGER "Touch; it" ON "Shop"."Sales"');
      const pairs = indexNamePairs(snap.source!, ctx.cfg);
      expect(pairs.map((p) => p.original).sort()).toEqual(snap.source!.indexes.map((i) => i.name).sort());
      for (const p of pairs) {
        expect(byteLength(p.onOld)).toBeLessThanOrEqual(63);
        expect(plan.statements).toContain(`ALTER INDEX "Shop".${JSON.stringify(p.original)} RENAME TO ${JSON.stringify(p.onOld).replace(/\\"/g, '""')}`);
      }
      expect(new Set(pairs.map((p) => p.onOld)).size).toBe(pairs.length);
      // replica identity on the parent and every partition (docs/behaviours/replica-identity-does-not-propagate.md)
      const ri = plan.statements.filter((s) => s.endsWith('REPLICA IDENTITY FULL'));
      expect(ri.length).toBe(1 + snap.target!.partitions.length);

      // forward then reverse, on the real server: the catalog is exactly as before
      const before = await catalogFingerprint(ctx.client);
      await runAll(ctx.client, plan.statements);
      const mid = await ctx.client.query(`SELECT relkind::text AS k FROM pg_class WHERE oid = '"Shop"."Sales"'::regclass`);
      expect(mid.rows[0].k).toBe('p');
      // the BEGIN ATOMIC function now reads the partitioned table (empty here: nothing was copied)
      const fn = await ctx.client.query(`SELECT "Shop"."sales; count"() AS n`);
      expect(Number(fn.rows[0].n)).toBe(0);
      await runAll(ctx.client, plan.reverse);
      expect(await catalogFingerprint(ctx.client)).toBe(before);
      expect(Number((await ctx.client.query(`SELECT "Shop"."sales; count"() AS n`)).rows[0].n)).toBe(300);
    } finally {
      await close();
    }
  });

  it('fits long index names within 63 bytes, and refuses a foreign key in without the key that migrate has not prepared or that cannot be carried', async () => {
    const long = 'observations_with_a_really_quite_long_name_for_testing_xx';
    await withClient(db.config, (c) => c.query(`
      CREATE TABLE public.progs (pid int PRIMARY KEY, name text);
      INSERT INTO public.progs VALUES (1, 'one'), (2, 'two');
      CREATE TABLE public.${long} (id bigint PRIMARY KEY, pid int NOT NULL, v text);
      CREATE INDEX ${long}_pid_v_idx ON public.${long} (pid, v);
      INSERT INTO public.${long} SELECT g, 1 + g % 2, 'v' || g FROM generate_series(1, 50) g;`));
    const input: ConfigInput = { table: long, key: 'pid', lookup: 'progs', lookupKey: 'pid', partitionName: 'p_{key}', defaultPartition: 'p_default', newTable: 'obs_new', oldTable: `${long}_old` };
    const { ctx, close } = await engineContext(db.config, input);
    try {
      expect((await runCreate(ctx)).exitCode).toBe(0);
      const snap = await takeSnapshot(ctx.client, ctx.cfg);
      const pairs = indexNamePairs(snap.source!, ctx.cfg);
      expect(pairs.length).toBe(2);
      for (const p of pairs) expect(byteLength(p.onOld)).toBeLessThanOrEqual(63);
      const plan = planSwap(snap, ctx.cfg);
      const before = await catalogFingerprint(ctx.client);
      await runAll(ctx.client, plan.statements);
      const names = await ctx.client.query(`SELECT relname FROM pg_class WHERE relkind IN ('i', 'I') AND relname LIKE 'observations%' ORDER BY 1`);
      expect(names.rows.map((r) => r.relname)).toEqual(expect.arrayContaining(pairs.flatMap((p) => [p.original, p.onOld])));
      await runAll(ctx.client, plan.reverse);
      expect(await catalogFingerprint(ctx.client)).toBe(before);

      await ctx.client.query(`CREATE TABLE public.refs (id bigint REFERENCES public.${long} (id))`);
      const snap2 = await takeSnapshot(ctx.client, ctx.cfg);
      expect(() => planSwap(snap2, ctx.cfg)).toThrow(PlanError);
      // a referencing table partwise carries, but whose column migrate has not added yet
      expect(() => planSwap(snap2, ctx.cfg)).toThrow(/refs lack the pid column partwise fills: run partwise migrate/);
      await ctx.client.query(`DROP TABLE public.refs`);
      // one partwise cannot carry: a partitioned referencing table
      await ctx.client.query(`CREATE TABLE public.prefs (id bigint REFERENCES public.${long} (id), k int) PARTITION BY LIST (k)`);
      const snap3 = await takeSnapshot(ctx.client, ctx.cfg);
      expect(() => planSwap(snap3, ctx.cfg)).toThrow(/prefs.*is itself partitioned.*without pid/);
      await ctx.client.query(`DROP TABLE public.prefs`);
    } finally {
      await close();
    }
  });

  it('rollback before the swap drops the copy, the auto-partition trigger and capture, and nothing of the source', async () => {
    const { ctx, close } = await engineContext(db.config, HOSTILE);
    try {
      const snap = await takeSnapshot(ctx.client, ctx.cfg);
      const plan = planRollbackBeforeSwap(snap, ctx.cfg);
      expect(plan.statements).toContain('DROP TABLE "Shop"."Sales; new"');
      expect(plan.statements.some((s) => /CASCADE/.test(s))).toBe(false);
      expect(plan.statements.some((s) => s.startsWith('DROP TRIGGER IF EXISTS') && s.endsWith('ON "Shop"."Regions"'))).toBe(true);
    } finally {
      await close();
    }
  });
});
