import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { waitUntil } from './helpers/waitUntil.js';
import { createTestDatabase, withClient, type TestDatabase } from './helpers/db.js';
import { catalogFingerprint, engineContext, fixture } from './helpers/engine.js';
import { runCheck } from '../src/steps/check.js';
import { runCreate } from '../src/steps/create.js';
import { runVerify } from '../src/steps/verify.js';
import { runPlan } from '../src/steps/plan.js';
import { takeSnapshot } from '../src/catalog/snapshot.js';
import { planCreate } from '../src/plan/planCreate.js';
import type { CheckItem } from '../src/events.js';
import type { ConfigInput } from '../src/config/config.js';

const TEXT_KEY: ConfigInput = {
  schema: 'Shop', table: 'Sales', key: 'RegionCode', lookup: 'Regions', lookupKey: 'RegionCode', lookupLabel: 'Label',
  partitionName: 'sales_{key}', defaultPartition: 'sales_default',
};
const BIGINT_KEY: ConfigInput = { table: 'events', key: 'tenant_id', lookup: 'tenants', lookupKey: 'tenant_id', lookupLabel: 'name', partitionName: 'events_t{key}', defaultPartition: 'events_default' };
const UUID_KEY: ConfigInput = { table: 'observations', key: 'program_id', lookup: 'programs', partitionName: 'obs_{key}', defaultPartition: 'obs_default' };

const items = (data: unknown) => (data as { items: CheckItem[] }).items;
const byId = (data: unknown, id: string) => items(data).find((i) => i.id === id);

async function setup(sql: string): Promise<TestDatabase> {
  const db = await createTestDatabase('pw_test_create');
  await withClient(db.config, (c) => c.query(sql));
  return db;
}

describe.each([
  ['text key, mixed case, hostile labels', 'text-key.sql', TEXT_KEY, 3],
  ['bigint key, identity, FKs, view, publication, trigger', 'bigint-key.sql', BIGINT_KEY, 5],
])('create and verify: %s', (_name, file, input, programs) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await setup(fixture(file));
  });
  afterAll(async () => db?.drop());

  it('check passes, plan shows every step, create builds it, verify finds it equal', async () => {
    const { ctx, close } = await engineContext(db.config, input);
    try {
      const check = await runCheck(ctx);
      expect(items(check.data).filter((i) => i.status === 'fail')).toEqual([]);
      expect(check.exitCode).toBe(0);

      const plan = await runPlan(ctx);
      const script = (plan.data as { script: string }).script;
      expect(script).not.toMatch(/SELECT \*/);
      expect(script).not.toMatch(/INCLUDING ALL/);
      expect(script).toMatch(/PARTITION BY LIST/);

      const created = await runCreate(ctx);
      expect(created.summary).toMatch(/in place/);
      expect(created.exitCode).toBe(0);
      const verified = await runVerify(ctx);
      expect(items(verified.data).filter((i) => i.status !== 'ok')).toEqual([]);
      expect(verified.exitCode).toBe(0);

      const snap = await takeSnapshot(ctx.client, ctx.cfg);
      expect(snap.target!.partitions.length).toBe(programs + 1);
      expect(snap.target!.partitions.every((p) => p.rls)).toBe(true);
    } finally {
      await close();
    }
  });

  it('running create again changes nothing', async () => {
    const { ctx, close } = await engineContext(db.config, input);
    try {
      const before = await catalogFingerprint(ctx.client);
      const again = await runCreate(ctx);
      expect(again.exitCode).toBe(0);
      expect(again.summary).toMatch(/0 step\(s\) run/);
      expect(await catalogFingerprint(ctx.client)).toBe(before);
    } finally {
      await close();
    }
  });

  it('a new lookup row gets its partition at once, with RLS and grants (auto-partition trigger)', async () => {
    const { ctx, close } = await engineContext(db.config, input);
    try {
      const cfg = ctx.cfg;
      const lookup = `${pg.escapeIdentifier(cfg.lookupSchema)}.${pg.escapeIdentifier(cfg.lookup)}`;
      const newKey = file === 'text-key.sql' ? `x'; DROP TABLE x; --` : '77';
      const cols = file === 'text-key.sql' ? `("RegionCode", "Label", created_at) VALUES ($1, 'new', now())` : `(tenant_id, name) VALUES ($1, 'new')`;
      await ctx.client.query(`INSERT INTO ${lookup} ${cols}`, [newKey]);
      const verified = await runVerify(ctx);
      expect(items(verified.data).filter((i) => i.status !== 'ok')).toEqual([]);
      const snap = await takeSnapshot(ctx.client, cfg);
      expect(snap.target!.partitions.length).toBe(programs + 2);
    } finally {
      await close();
    }
  });
});

describe('what create builds', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await setup(fixture('text-key.sql') + fixture('bigint-key.sql'));
  });
  afterAll(async () => db?.drop());

  it('extends the primary key with the partition key and warns about ON CONFLICT', async () => {
    const { ctx, close } = await engineContext(db.config, TEXT_KEY);
    try {
      const check = await runCheck(ctx);
      expect(byId(check.data, 'uniqueness')!.status).toBe('warn');
      expect(byId(check.data, 'uniqueness')!.details!.join()).toMatch(/ON CONFLICT \(SaleId, RegionCode\)/);
      await runCreate(ctx);
      const snap = await takeSnapshot(ctx.client, ctx.cfg);
      const pk = snap.target!.constraints.find((c) => c.type === 'p')!;
      expect(pk.columns).toEqual(['SaleId', 'RegionCode']);
      // generated column kept generated, serial default still on the old sequence, quoted mixed case preserved
      const total = snap.target!.columns.find((c) => c.name === 'Total')!;
      expect(total.generated).toBe('s');
      expect(snap.target!.columns.find((c) => c.name === 'SaleId')!.defaultExpr).toMatch(/nextval\('"Shop"\."Sales_SaleId_seq"'::regclass\)/);
      expect(snap.target!.columns.map((c) => c.name)).toEqual(snap.source!.columns.map((c) => c.name));
      // column-level grant, policy, statistics target, column comment
      expect(snap.target!.grants).toEqual(expect.arrayContaining([expect.objectContaining({ grantee: 'pw_reader', privilege: 'UPDATE', columnName: 'Mood' })]));
      expect(snap.target!.policies.map((p) => p.name)).toEqual(['Readers see small sales']);
      expect(snap.target!.columns.find((c) => c.name === 'amount')!.statTarget).toBe(500);
      expect(snap.target!.columns.find((c) => c.name === 'Mood')!.comment).toBe('how it went');
      // a row copies into the right partition with explicit columns, and the generated column computes
      await ctx.client.query(`INSERT INTO "Shop"."Sales_partitioned" ("SaleId", "RegionCode", amount) VALUES (100000, 'a-b', 5)`);
      const r = await ctx.client.query(`SELECT tableoid::regclass::text AS part, "Total" FROM "Shop"."Sales_partitioned" WHERE "SaleId" = 100000`);
      expect(r.rows[0].part).toMatch(/sales_a_b_[0-9a-f]{6}/);
      expect(Number(r.rows[0].Total)).toBe(10);
    } finally {
      await close();
    }
  });

  it('adds outgoing foreign keys and keeps identity columns as identity', async () => {
    const { ctx, close } = await engineContext(db.config, BIGINT_KEY);
    try {
      await runCreate(ctx);
      const snap = await takeSnapshot(ctx.client, ctx.cfg);
      const fk = snap.target!.constraints.find((c) => c.type === 'f')!;
      expect(fk.refTable).toBe('tenants');
      expect(snap.target!.columns.find((c) => c.name === 'event_id')!.identity).toBe('a');
      // the new identity has its own sequence, not the source's
      expect(snap.target!.columns.find((c) => c.name === 'event_id')!.identitySequence).not.toBe(snap.source!.columns.find((c) => c.name === 'event_id')!.identitySequence);
    } finally {
      await close();
    }
  });

  it('never exposes the new table through default privileges, not even inside create', async () => {
    await withClient(db.config, async (c) => {
      await c.query(`DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pw_anon') THEN CREATE ROLE pw_anon NOLOGIN; END IF; END $$`);
      await c.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON TABLES TO pw_anon`);
    });
    const { ctx, close } = await engineContext(db.config, { ...BIGINT_KEY, newTable: 'events_p2', partitionName: 'ev2_{key}', defaultPartition: 'ev2_default' });
    try {
      const plan = planCreate(await takeSnapshot(ctx.client, ctx.cfg), ctx.cfg);
      const createStep = plan.steps.find((s) => s.id === 'create-table')!;
      // revoke and grants run in the same transaction as CREATE TABLE
      expect(createStep.transactional).toBe(true);
      expect(createStep.statements.join('\n')).toMatch(/REVOKE ALL ON TABLE "public"."events_p2" FROM PUBLIC, "pw_anon"/);
      await runCreate(ctx);
      const acl = await ctx.client.query(`SELECT c.relname FROM pg_class c, aclexplode(c.relacl) a WHERE a.grantee = 'pw_anon'::regrole AND c.relname LIKE 'ev%'`);
      expect(acl.rows).toEqual([]);
    } finally {
      await close();
    }
  });
});

describe('prerequisites that fail', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await setup(fixture('uuid-key.sql'));
  });
  afterAll(async () => db?.drop());

  it('reports NULL keys, missing lookup keys, a key-assigning BEFORE trigger and warns about an FK into the table by id', async () => {
    const { ctx, close } = await engineContext(db.config, UUID_KEY);
    try {
      const check = await runCheck(ctx);
      expect(check.exitCode).toBe(3);
      expect(byId(check.data, 'null-keys')).toMatchObject({ status: 'fail', reason: expect.stringMatching(/^1 row/) });
      expect(byId(check.data, 'missing-keys')).toMatchObject({ status: 'warn', details: ['00000000-0000-0000-0000-000000000009: 1 row(s)'] });
      expect(byId(check.data, 'triggers-key')).toMatchObject({ status: 'fail', reason: expect.stringMatching(/observations_default_program/) });
      // a foreign key by id alone is carried (issue 17): a warning with what will be added to images
      expect(byId(check.data, 'foreign-key-carry:public.images.images_observation_id_fkey')).toMatchObject({ status: 'warn', reason: expect.stringMatching(/adds program_id \(uuid, nullable\) to it/) });
    } finally {
      await close();
    }
  });

  it('check, plan and verify change nothing', async () => {
    const { ctx, close } = await engineContext(db.config, UUID_KEY);
    try {
      const before = await catalogFingerprint(ctx.client);
      await runCheck(ctx);
      await runPlan(ctx);
      await runVerify(ctx);
      expect(await catalogFingerprint(ctx.client)).toBe(before);
    } finally {
      await close();
    }
  });
});

describe('failure half-way and schema drift', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await setup(fixture('bigint-key.sql'));
  });
  afterAll(async () => db?.drop());

  it('a lock held by another session makes create wait, name the blocker, retry and give up with nothing changed', async () => {
    const holder = new pg.Client(db.config);
    await holder.connect();
    // a writer's lock on the lookup table conflicts with the foreign key the first step adds
    await holder.query(`BEGIN; LOCK TABLE tenants IN ROW EXCLUSIVE MODE`);
    const holderPid = (await holder.query('SELECT pg_backend_pid() AS p')).rows[0].p;
    const { ctx, events, close } = await engineContext(db.config, BIGINT_KEY, { lockTimeoutMs: 100, attempts: 2, baseDelayMs: 10, maxDelayMs: 20 });
    try {
      const before = await catalogFingerprint(ctx.client);
      const failed = await runCreate(ctx);
      expect(failed.exitCode).toBe(1);
      expect(failed.summary).toMatch(/lock timeout/);
      expect(failed.summary).toContain(`pid ${holderPid}`);
      expect(events.filter((e) => e.type === 'step.retry')).toHaveLength(1);
      expect(events.some((e) => e.type === 'step.retry' && e.blockers.some((b) => b.pid === holderPid))).toBe(true);
      // the journal schema is partwise's own bookkeeping; nothing else changed
      const after = (await catalogFingerprint(ctx.client)).split('\n').filter((l) => !/partwise/.test(l)).join('\n');
      expect(after).toBe(before);
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
      await close();
    }
  });

  it('create failing half-way continues on re-run and ends in the same state as one clean run', async () => {
    const reference = await createTestDatabase('pw_test_reference');
    try {
      await withClient(reference.config, (c) => c.query(fixture('bigint-key.sql')));
      const ref = await engineContext(reference.config, BIGINT_KEY);
      await runCreate(ref.ctx);
      const want = planCreate(await takeSnapshot(ref.ctx.client, ref.ctx.cfg), ref.ctx.cfg).steps.map((s) => [s.id, s.done]);
      const wantPrint = await catalogFingerprint(ref.ctx.client);
      await ref.close();

      // a table in the way of the third partition's name makes create fail half-way
      await withClient(db.config, (c) => c.query(`CREATE TABLE events_t3 (x int)`));
      const { ctx, events, close } = await engineContext(db.config, BIGINT_KEY);
      try {
        const failed = await runCreate(ctx);
        expect(failed.exitCode).toBe(1);
        expect(failed.summary).toMatch(/events_t3.*already exists/);
        expect(events.find((e) => e.type === 'step.fail')).toMatchObject({ step: 'create-partition:3', error: { unchanged: expect.stringMatching(/rolled back/) } });
        const mid = await takeSnapshot(ctx.client, ctx.cfg);
        expect(mid.target!.partitions.map((p) => p.name).sort()).toEqual(['events_t1', 'events_t2']);

        await ctx.client.query(`DROP TABLE events_t3`);
        const again = await runCreate(ctx);
        expect(again.exitCode).toBe(0);
        const got = planCreate(await takeSnapshot(ctx.client, ctx.cfg), ctx.cfg).steps.map((s) => [s.id, s.done]);
        expect(got).toEqual(want);
        expect(await catalogFingerprint(ctx.client)).toBe(wantPrint);
        expect((await runVerify(ctx)).exitCode).toBe(0);
      } finally {
        await close();
      }
    } finally {
      await reference.drop();
    }
  });

  it('reports a column added to the source after create, with the statement that fixes it', async () => {
    const { ctx, close } = await engineContext(db.config, BIGINT_KEY);
    try {
      await ctx.client.query(`ALTER TABLE events ADD COLUMN "Severity" smallint DEFAULT 3`);
      const drift = await runVerify(ctx);
      expect(drift.exitCode).toBe(3);
      const cols = byId(drift.data, 'columns')!;
      expect(cols.status).toBe('fail');
      expect(cols.todo).toContain('ALTER TABLE "public"."events_partitioned" ADD COLUMN "Severity" smallint DEFAULT 3');
      await ctx.client.query(cols.todo!.replace(/^run: /, ''));
      expect((await runVerify(ctx)).exitCode).toBe(0);
    } finally {
      await close();
    }
  });
});

describe('integer keys', () => {
  it('create and verify work with an integer key, including a negative key value', async () => {
    const db = await setup(`
      CREATE TABLE shops (shop_no integer PRIMARY KEY, title text);
      INSERT INTO shops VALUES (1, 'one'), (2, 'two'), (-3, 'minus three');
      CREATE TABLE orders (order_id serial PRIMARY KEY, shop_no integer NOT NULL, total numeric);
      INSERT INTO orders (shop_no, total) SELECT (ARRAY[1, 2, -3])[1 + g % 3], g FROM generate_series(1, 30) g;`);
    const { ctx, close } = await engineContext(db.config, { table: 'orders', key: 'shop_no', lookup: 'shops', lookupKey: 'shop_no', lookupLabel: 'title', partitionName: 'orders_s{key}', defaultPartition: 'orders_default' });
    try {
      expect((await runCreate(ctx)).exitCode).toBe(0);
      const verified = await runVerify(ctx);
      expect(items(verified.data).filter((i) => i.status !== 'ok')).toEqual([]);
      const snap = await takeSnapshot(ctx.client, ctx.cfg);
      expect(snap.target!.partitions.map((p) => p.bound).sort()).toEqual(["DEFAULT", "FOR VALUES IN ('-3')", 'FOR VALUES IN (1)', 'FOR VALUES IN (2)']);
      expect((await runCreate(ctx)).summary).toMatch(/0 step\(s\) run/);
    } finally {
      await close();
      await db.drop();
    }
  });
});

describe('what partitioning changes for the application', () => {
  it('a key-changing update racing with a delete of the same row fails with 40001 on a partitioned table, and check warns about it', async () => {
    const db = await setup(`
      CREATE TABLE kinds (k int PRIMARY KEY); INSERT INTO kinds VALUES (1), (2);
      CREATE TABLE items (id int PRIMARY KEY, k int NOT NULL); INSERT INTO items VALUES (1, 1);`);
    const { ctx, close } = await engineContext(db.config, { table: 'items', key: 'k', lookup: 'kinds', lookupKey: 'k', lookupLabel: 'k', partitionName: 'items_{key}', defaultPartition: 'items_default' });
    const a = new pg.Client(db.config);
    const b = new pg.Client(db.config);
    try {
      const check = await runCheck(ctx);
      expect(byId(check.data, 'key-updates')).toMatchObject({ status: 'warn', todo: expect.stringMatching(/40001/) });
      await runCreate(ctx);
      await ctx.client.query(`INSERT INTO items_partitioned SELECT id, k FROM items`);
      await a.connect();
      await b.connect();
      await a.query('BEGIN');
      await a.query(`UPDATE items_partitioned SET k = 2 WHERE id = 1`);
      const racing = b.query(`DELETE FROM items_partitioned WHERE id = 1`).then(() => null, (e: { code?: string }) => e.code);
      // the DELETE waits for the UPDATE's row lock before the UPDATE commits
      const bPid = (b as pg.Client & { processID: number }).processID;
      await waitUntil(async () => (await a.query(`SELECT wait_event_type = 'Lock' AS w FROM pg_stat_activity WHERE pid = $1`, [bPid])).rows[0]?.w, { what: 'the DELETE to wait for the row lock' });
      await a.query('COMMIT');
      expect(await racing).toBe('40001');
    } finally {
      await a.end().catch(() => undefined);
      await b.end().catch(() => undefined);
      await close();
      await db.drop();
    }
  });
});
