import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createTestDatabase, withClient, type TestDatabase } from './helpers/db.js';
import { engineContext, fixture } from './helpers/engine.js';
import { seedDemo } from '../src/demo/seedDemo.js';
import { runCreate } from '../src/steps/create.js';
import { runMaintain } from '../src/steps/maintain.js';
import { verifyStructure } from '../src/steps/verify.js';
import { takeSnapshot } from '../src/catalog/snapshot.js';
import { readPartitionSizes } from '../src/monitor/partitionSizes.js';
import type { ConfigInput } from '../src/config/config.js';

const NEW_PROGRAM = '11111111-2222-3333-4444-555555555555';
const EMPTY_PROGRAM = '66666666-7777-8888-9999-000000000000';
const STRAY_PROGRAM = '99999999-9999-9999-9999-999999999999';

async function count(c: pg.ClientBase, sql: string, params: unknown[] = []): Promise<number> {
  return Number((await c.query(sql, params)).rows[0].n);
}

/** Rows of the partitioned table with every column, generated and identity ones included, for a key. */
async function rowsOf(c: pg.ClientBase, table: string, key: string): Promise<string[]> {
  const r = await c.query(`SELECT t::text AS r FROM ${table} t WHERE program_id = $1 ORDER BY observation_id`, [key]);
  return r.rows.map((x) => x.r);
}

describe('maintain on the demo: the auto-partition trigger failed, rows landed in the default partition', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('pw_test_maintain');
    await withClient(db.config, (c) => seedDemo(c, { rows: 2000, programs: 3 }));
  });
  afterAll(async () => db?.drop());

  it('creates the missing partitions, moves the rows out of the default, leaves strays, and verify passes', async () => {
    const { ctx, events, close } = await engineContext(db.config);
    const holder = new pg.Client(db.config);
    await holder.connect();
    try {
      expect((await runCreate(ctx)).exitCode).toBe(0);
      const c = ctx.client;
      // the trigger's CREATE TABLE ... PARTITION OF needs ACCESS EXCLUSIVE on the parent: a reader holding it makes
      // the trigger give up after its lock_timeout; the lookup insert still succeeds
      // (docs/behaviours/creating-a-partition-locks-the-parent.md)
      await holder.query(`BEGIN; LOCK TABLE public.petri_observations_partitioned IN ACCESS SHARE MODE`);
      const notices: string[] = [];
      c.on('notice', (n) => notices.push(n.message ?? ''));
      await c.query(`INSERT INTO public.pilot_programs (program_id, name) VALUES ($1, 'Late; O''Hara "trial"'), ($2, 'No rows yet')`, [NEW_PROGRAM, EMPTY_PROGRAM]);
      expect(notices.some((m) => /no partition created/.test(m))).toBe(true);
      // the application writes rows of the new program (and of a program missing from the lookup table)
      await c.query(
        `INSERT INTO public.petri_observations_partitioned (observation_id, program_id, growth_index, observed_at, seq_no, legacy_no, "daysInThisProgramPhase")
         SELECT gen_random_uuid(), $1, g, now() - g * interval '1 hour', 100000 + g, 200000 + g, g FROM generate_series(1, 250) g`, [NEW_PROGRAM]);
      await c.query(`INSERT INTO public.petri_observations_partitioned (program_id, growth_index, legacy_no) SELECT $1, 60, 300000 + g FROM generate_series(1, 7) g`, [STRAY_PROGRAM]);
      await holder.query('ROLLBACK');
      expect(await count(c, `SELECT count(*) AS n FROM ONLY public.petri_obs_default`)).toBe(257);
      const before = await rowsOf(c, 'public.petri_observations_partitioned', NEW_PROGRAM);
      expect(before).toHaveLength(250);
      expect((await readPartitionSizes(c, ctx.cfg)).defaultHasRows).toBe(true);
      expect(verifyStructure(await takeSnapshot(c, ctx.cfg), ctx.cfg).find((i) => i.id === 'partitions')!.status).toBe('fail');

      const r = await runMaintain(ctx);
      expect(r.exitCode).toBe(0);
      expect(r.summary).toMatch(/2 partition\(s\) created, 250 row\(s\) moved/);
      expect(r.summary).toMatch(/7 row\(s\) of keys not in the lookup table stay/);
      const data = r.data as { moved: Array<{ key: string; rows: number; partition: string }>; strays: Array<{ key: string; rows: number }> };
      expect(data.moved).toEqual([expect.objectContaining({ key: NEW_PROGRAM, rows: 250 })]);
      expect(data.strays).toEqual([{ key: STRAY_PROGRAM, rows: 7 }]);
      expect(events.some((e) => e.type === 'warn' && e.message.includes(STRAY_PROGRAM))).toBe(true);
      // the moving step is the safe one: standalone table, lock, DELETE ... RETURNING, ATTACH
      const start = events.find((e) => e.type === 'step.start' && e.step === `move-default:${NEW_PROGRAM}`);
      expect(start && start.type === 'step.start' && start.statements.join('\n')).toMatch(/ATTACH PARTITION/);
      // the program without rows is attached too, beside the non-empty default: the parent is never locked
      // ACCESS EXCLUSIVE while the default is scanned
      const empty = events.find((e) => e.type === 'step.start' && e.step === `move-default:${EMPTY_PROGRAM}`);
      expect(empty && empty.type === 'step.start' && empty.locks.find((l) => l.on === '"public"."petri_observations_partitioned"')!.mode).toBe('SHARE UPDATE EXCLUSIVE');

      // the partition exists (found by bound), holds the rows, unchanged, identity and generated values included
      const part = await c.query(
        `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
          WHERE i.inhparent = 'public.petri_observations_partitioned'::regclass AND pg_get_expr(c.relpartbound, c.oid) = $1`,
        [`FOR VALUES IN ('${NEW_PROGRAM}')`]);
      expect(part.rows).toHaveLength(1);
      const partName = part.rows[0].relname as string;
      expect(partName).toBe(data.moved[0]!.partition);
      expect(await count(c, `SELECT count(*) AS n FROM ONLY public.${pg.escapeIdentifier(partName)}`)).toBe(250);
      expect(await rowsOf(c, 'public.petri_observations_partitioned', NEW_PROGRAM)).toEqual(before);
      // the default keeps only the strays
      expect(await count(c, `SELECT count(*) AS n FROM ONLY public.petri_obs_default`)).toBe(7);
      expect(await count(c, `SELECT count(*) AS n FROM ONLY public.petri_obs_default WHERE program_id = $1`, [NEW_PROGRAM])).toBe(0);

      // RLS, policies, grants and indexes equal on every partition; one partition per lookup row
      const items = verifyStructure(await takeSnapshot(c, ctx.cfg), ctx.cfg);
      expect(items.filter((i) => i.status !== 'ok')).toEqual([]);
      // new rows of the program now route to its partition; the identity keeps counting on the parent
      await c.query(`INSERT INTO public.petri_observations_partitioned (program_id, growth_index) VALUES ($1, 1)`, [NEW_PROGRAM]);
      expect(await count(c, `SELECT count(*) AS n FROM ONLY public.${pg.escapeIdentifier(partName)}`)).toBe(251);

      // the monitor still flags the default (strays), and a second maintain has nothing to create
      expect((await readPartitionSizes(c, ctx.cfg)).defaultHasRows).toBe(true);
      const again = await runMaintain(ctx);
      expect(again.exitCode).toBe(0);
      expect(again.summary).toMatch(/^0 partition\(s\) created, 0 row\(s\) moved/);
      const journal = await c.query(`SELECT status FROM partwise.step_log WHERE step = 'maintain' ORDER BY id`);
      expect(journal.rows.map((x) => x.status)).toEqual(['done', 'done']);
    } finally {
      await holder.end().catch(() => undefined);
      await close();
    }
  });
});

describe('maintain with a hostile text key, mixed case, a generated column and no auto-partition trigger', () => {
  const TEXT_KEY: ConfigInput = {
    schema: 'Shop', table: 'Sales', key: 'RegionCode', lookup: 'Regions', lookupKey: 'RegionCode', lookupLabel: 'Label',
    partitionName: 'sales_{key}', defaultPartition: 'sales_default', autoPartitionTrigger: false,
  };
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('pw_test_maintain_text');
    await withClient(db.config, (c) => c.query(fixture('text-key.sql')));
  });
  afterAll(async () => db?.drop());

  it('moves the rows of a key with quotes and a semicolon into its own partition', async () => {
    const { ctx, close } = await engineContext(db.config, TEXT_KEY);
    try {
      expect((await runCreate(ctx)).exitCode).toBe(0);
      const c = ctx.client;
      const key = `x'); DROP TABLE "Shop"."Sales"; --`;
      await c.query(`INSERT INTO "Shop"."Sales_partitioned" ("SaleId", "RegionCode", amount) SELECT 10000 + g, $1, g FROM generate_series(1, 40) g`, [key]);
      await c.query(`INSERT INTO "Shop"."Regions" ("RegionCode", "Label", created_at) VALUES ($1, 'evil', now())`, [key]);
      const r = await runMaintain(ctx);
      expect(r.exitCode).toBe(0);
      expect(r.summary).toMatch(/1 partition\(s\) created, 40 row\(s\) moved/);
      expect(await count(c, `SELECT count(*) AS n FROM ONLY "Shop".sales_default`)).toBe(0);
      const moved = await c.query(`SELECT tableoid::regclass::text AS part, sum("Total") AS total FROM "Shop"."Sales_partitioned" WHERE "RegionCode" = $1 GROUP BY 1`, [key]);
      expect(moved.rows).toHaveLength(1);
      expect(moved.rows[0].part).not.toMatch(/sales_default/);
      expect(Number(moved.rows[0].total)).toBe(2 * (40 * 41) / 2); // the generated column recomputed on the new partition
      expect(verifyStructure(await takeSnapshot(c, ctx.cfg), ctx.cfg).filter((i) => i.status !== 'ok')).toEqual([]);
      expect((await readPartitionSizes(c, ctx.cfg)).defaultHasRows).toBe(false);

      // with the default empty, a new lookup row gets the planner's own create-partition step
      const events2: string[] = [];
      await c.query(`INSERT INTO "Shop"."Regions" ("RegionCode", "Label", created_at) VALUES ('west', 'West', now())`);
      const r2 = await runMaintain({ ...ctx, emit: (e) => { if (e.type === 'step.done') events2.push(e.step); } });
      expect(r2.summary).toMatch(/^1 partition\(s\) created, 0 row\(s\) moved/);
      expect(events2).toEqual(['create-partition:west']);
      expect(verifyStructure(await takeSnapshot(c, ctx.cfg), ctx.cfg).filter((i) => i.status !== 'ok')).toEqual([]);
    } finally {
      await close();
    }
  });
});

describe('maintain after the swap, and under a lock', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('pw_test_maintain_swapped');
    await withClient(db.config, (c) => seedDemo(c, { rows: 1000, programs: 2 }));
  });
  afterAll(async () => db?.drop());

  it('gives up within its lock_timeout attempts when a session holds the default partition, leaving nothing behind', async () => {
    const { ctx, events, close } = await engineContext(db.config, { autoPartitionTrigger: false }, { lockTimeoutMs: 100, attempts: 2, baseDelayMs: 10, maxDelayMs: 20 });
    const holder = new pg.Client(db.config);
    await holder.connect();
    try {
      expect((await runCreate(ctx)).exitCode).toBe(0);
      const c = ctx.client;
      await c.query(`INSERT INTO public.petri_observations_partitioned (program_id, growth_index) SELECT $1, g FROM generate_series(1, 20) g`, [NEW_PROGRAM]);
      await c.query(`INSERT INTO public.pilot_programs (program_id, name) VALUES ($1, 'Late')`, [NEW_PROGRAM]);
      await holder.query(`BEGIN; SELECT count(*) FROM public.petri_obs_default`);
      const holderPid = (await holder.query('SELECT pg_backend_pid() AS p')).rows[0].p;
      const tablesBefore = await count(c, `SELECT count(*) AS n FROM pg_class WHERE relnamespace = 'public'::regnamespace`);
      const r = await runMaintain(ctx);
      expect(r.exitCode).toBe(1);
      expect(r.summary).toMatch(/lock timeout/);
      expect(r.summary).toContain(`pid ${holderPid}`);
      expect(events.some((e) => e.type === 'step.retry' && e.blockers.some((b) => b.pid === holderPid))).toBe(true);
      const fail = events.find((e) => e.type === 'step.fail');
      expect(fail && fail.type === 'step.fail' && fail.error.unchanged).toMatch(/still in the default partition/);
      // rolled back: no standalone table, the rows where they were
      expect(await count(c, `SELECT count(*) AS n FROM pg_class WHERE relnamespace = 'public'::regnamespace`)).toBe(tablesBefore);
      expect(await count(c, `SELECT count(*) AS n FROM ONLY public.petri_obs_default WHERE program_id = $1`, [NEW_PROGRAM])).toBe(20);
      const log = await c.query(`SELECT status FROM partwise.step_log WHERE step = 'maintain' ORDER BY id DESC LIMIT 1`);
      expect(log.rows[0].status).toBe('failed');
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      await holder.end().catch(() => undefined);
      await close();
    }
  });

  it('after the swap works on the partitioned table under the source name, with the same security on the new partition', async () => {
    const { ctx, close } = await engineContext(db.config, { autoPartitionTrigger: false });
    try {
      const c = ctx.client;
      // the swap, reduced to what matters here: the partitioned table takes the source's name
      await c.query(`ALTER TABLE public.petri_observations RENAME TO petri_observations_old`);
      await c.query(`ALTER TABLE public.petri_observations_partitioned RENAME TO petri_observations`);
      await c.query(`INSERT INTO public.petri_observations (program_id, growth_index) SELECT $1, g FROM generate_series(1, 15) g`, [EMPTY_PROGRAM]);
      await c.query(`INSERT INTO public.pilot_programs (program_id, name) VALUES ($1, 'After the swap')`, [EMPTY_PROGRAM]);
      const sizesBefore = await readPartitionSizes(c, ctx.cfg);
      expect(sizesBefore.table).toBe('public.petri_observations');
      expect(sizesBefore.defaultHasRows).toBe(true);

      const r = await runMaintain(ctx);
      expect(r.exitCode, r.summary).toBe(0);
      // the one from the failed run above, and the new one
      expect(r.summary).toMatch(/2 partition\(s\) created, 35 row\(s\) moved/);
      expect((r.data as { swapped: boolean }).swapped).toBe(true);
      expect(await count(c, `SELECT count(*) AS n FROM ONLY public.petri_obs_default`)).toBe(0);
      const sizes = await readPartitionSizes(c, ctx.cfg);
      expect(sizes.defaultHasRows).toBe(false);
      expect(sizes.rows.find((p) => p.label === 'After the swap')!.estimatedRows).toBe(15);

      // every partition has the same RLS flag, policies and grants (compared with the first program's partition)
      const security = await c.query(
        `SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
                (SELECT string_agg(g, ',' ORDER BY g) FROM (SELECT a.grantee::regrole::text || ':' || a.privilege_type AS g FROM aclexplode(c.relacl) a) x) AS grants,
                (SELECT string_agg(g, ',' ORDER BY g) FROM (SELECT p.polname || ':' || p.polcmd::text || ':' || COALESCE(pg_get_expr(p.polqual, p.polrelid, true), '') AS g
                                                              FROM pg_policy p WHERE p.polrelid = c.oid) x) AS policies
           FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'public.petri_observations'::regclass`);
      expect(security.rows).toHaveLength(5);
      const shape = (x: Record<string, unknown>) => JSON.stringify([x.relrowsecurity, x.relforcerowsecurity, x.grants, x.policies]);
      expect(new Set(security.rows.map(shape)).size).toBe(1);
      expect(security.rows[0].relrowsecurity).toBe(true);
      expect(security.rows[0].policies).toMatch(/authenticated_read/);
    } finally {
      await close();
    }
  });
});
