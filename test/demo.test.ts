import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDemoSeeded, seedDemo } from '../src/demo/seedDemo.js';
import { createTestDatabase, withClient, type TestDatabase } from './helpers/db.js';

const QUOTED_NAME = `O'Brien; trial "B"`;

describe('demo dataset (2000 rows, 5 programs)', () => {
  let db: TestDatabase;
  let client: pg.Client;
  const progress: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('demo');
    client = new pg.Client(db.config);
    await client.connect();
    expect(await isDemoSeeded(client)).toBe(false);
    await seedDemo(client, { rows: 2000, programs: 5, onProgress: (m) => progress.push(m) });
  });

  afterAll(async () => {
    await client?.end().catch(() => {});
    await db?.drop();
  });

  const one = async <T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T> =>
    (await client.query<T>(sql, params)).rows[0]!;

  it('reports progress and is recognised as seeded', async () => {
    expect(progress.length).toBeGreaterThanOrEqual(3);
    expect(await isDemoSeeded(client)).toBe(true);
  });

  it('has the requested size with one dominant program, in creation order', async () => {
    expect(await one('SELECT count(*)::int AS n FROM public.pilot_programs')).toEqual({ n: 5 });
    expect(await one('SELECT count(*)::int AS n FROM public.petri_observations')).toEqual({ n: 2000 });
    const { rows } = await client.query<{ name: string; n: number; created_at: Date }>(`
      SELECT p.name, p.created_at, count(o.*)::int AS n
        FROM public.pilot_programs p LEFT JOIN public.petri_observations o USING (program_id)
       GROUP BY p.program_id ORDER BY p.created_at`);
    const counts = rows.map((r) => r.n);
    expect(new Set(rows.map((r) => r.created_at.getTime())).size).toBe(5); // creation order is strict
    expect(counts.every((n) => n > 0)).toBe(true);
    const [biggest, ...rest] = counts;
    expect(biggest! / 2000).toBeGreaterThan(0.35);
    expect(biggest! / 2000).toBeLessThan(0.45);
    expect(biggest!).toBeGreaterThan(1.5 * Math.max(...rest));
    // Programs interleave over time rather than arriving in blocks.
    const firstRows = await client.query<{ n: number }>(
      'SELECT count(DISTINCT program_id)::int AS n FROM (SELECT program_id FROM public.petri_observations ORDER BY seq_no LIMIT 100) s',
    );
    expect(firstRows.rows[0]!.n).toBeGreaterThanOrEqual(4);
  });

  it('has a few rows whose program is missing from pilot_programs', async () => {
    const orphans = await one<{ n: number; programs: number; nulls: number }>(`
      SELECT count(*)::int AS n, count(DISTINCT program_id)::int AS programs,
             count(*) FILTER (WHERE program_id IS NULL)::int AS nulls
        FROM public.petri_observations o
       WHERE NOT EXISTS (SELECT 1 FROM public.pilot_programs p WHERE p.program_id = o.program_id)`);
    expect(orphans).toEqual({ n: 3, programs: 2, nulls: 0 });
  });

  it('keeps the awkward program name intact', async () => {
    const row = await one<{ n: number }>('SELECT count(*)::int AS n FROM public.pilot_programs WHERE name = $1', [QUOTED_NAME]);
    expect(row.n).toBe(1);
  });

  it('has the mixed-case column, identity, serial, generated column, check and comments', async () => {
    const cols = await client.query<{ attname: string; attidentity: string; attgenerated: string; def: string | null }>(`
      SELECT a.attname, a.attidentity, a.attgenerated, pg_get_expr(d.adbin, d.adrelid) AS def
        FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
       WHERE a.attrelid = 'public.petri_observations'::regclass AND a.attnum > 0 AND NOT a.attisdropped`);
    const byName = new Map(cols.rows.map((c) => [c.attname, c]));
    expect(byName.has('daysInThisProgramPhase')).toBe(true);
    expect(byName.has('daysinthisprogramphase')).toBe(false);
    expect(byName.get('seq_no')!.attidentity).toBe('d');
    expect(byName.get('legacy_no')!.def).toMatch(/^nextval\(/);
    expect(byName.get('growth_band')!.attgenerated).toBe('s');
    const days = await one<{ max: number }>('SELECT max("daysInThisProgramPhase")::int AS max FROM public.petri_observations');
    expect(days.max).toBe(44);
    const check = await one<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_constraint WHERE conrelid = 'public.petri_observations'::regclass AND contype = 'c'",
    );
    expect(check.n).toBe(1);
    const comments = await one<{ t: string | null; c: string | null }>(`
      SELECT obj_description('public.petri_observations'::regclass, 'pg_class') AS t,
             col_description('public.petri_observations'::regclass,
               (SELECT attnum FROM pg_attribute WHERE attrelid = 'public.petri_observations'::regclass
                  AND attname = 'daysInThisProgramPhase')::int) AS c`);
    expect(comments.t).toBeTruthy();
    expect(comments.c).toBeTruthy();
    const indexes = await client.query<{ indexname: string; indexdef: string }>(
      "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'petri_observations' ORDER BY 1",
    );
    expect(indexes.rows.map((r) => r.indexname)).toEqual([
      'petri_observations_decline_idx',
      'petri_observations_observation_program_key',
      'petri_observations_petri_code_idx',
      'petri_observations_pkey',
      'petri_observations_program_observed_idx',
    ]);
    expect(indexes.rows[0]!.indexdef).toContain('WHERE');
  });

  it('has RLS, a policy, table and column grants for the Supabase roles', async () => {
    const rls = await one<{ relrowsecurity: boolean }>(
      "SELECT relrowsecurity FROM pg_class WHERE oid = 'public.petri_observations'::regclass",
    );
    expect(rls.relrowsecurity).toBe(true);
    const policy = await one<{ roles: string[]; cmd: string }>(
      "SELECT roles::text[] AS roles, cmd FROM pg_policies WHERE schemaname = 'public' AND tablename = 'petri_observations' AND policyname = 'authenticated_read'",
    );
    expect(policy).toEqual({ roles: ['authenticated'], cmd: 'SELECT' });
    const roles = await client.query<{ rolname: string; rolcanlogin: boolean }>(
      "SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname IN ('anon', 'authenticated', 'service_role') ORDER BY 1",
    );
    expect(roles.rows).toEqual([
      { rolname: 'anon', rolcanlogin: false },
      { rolname: 'authenticated', rolcanlogin: false },
      { rolname: 'service_role', rolcanlogin: false },
    ]);
    const grants = await client.query<{ grantee: string; privs: string }>(`
      SELECT grantee, string_agg(privilege_type, ',' ORDER BY privilege_type) AS privs
        FROM information_schema.role_table_grants
       WHERE table_schema = 'public' AND table_name = 'petri_observations'
         AND grantee IN ('anon', 'authenticated', 'service_role')
       GROUP BY grantee ORDER BY grantee`);
    expect(grants.rows).toEqual(
      ['anon', 'authenticated', 'service_role'].map((grantee) => ({ grantee, privs: 'DELETE,INSERT,SELECT,UPDATE' })),
    );
    const colGrant = await client.query(
      `SELECT 1 FROM information_schema.column_privileges
        WHERE table_schema = 'public' AND table_name = 'petri_observations'
          AND grantee = 'authenticated' AND column_name = 'program_id' AND privilege_type = 'REFERENCES'`,
    );
    expect(colGrant.rowCount).toBe(1);
  });

  it('has the view, the publication and the petri_images foreign key', async () => {
    const recent = await one<{ n: number }>('SELECT count(*)::int AS n FROM public.petri_observations_recent');
    expect(recent.n).toBeGreaterThan(0);
    expect(recent.n).toBeLessThan(2000);
    const pub = await client.query(
      "SELECT 1 FROM pg_publication_tables WHERE pubname = 'partwise_demo_pub' AND schemaname = 'public' AND tablename = 'petri_observations'",
    );
    expect(pub.rowCount).toBe(1);
    const fk = await one<{ target: string; on_delete: string; def: string }>(`
      SELECT confrelid::regclass::text AS target, confdeltype AS on_delete, pg_get_constraintdef(oid) AS def FROM pg_constraint
       WHERE conrelid = 'public.petri_images'::regclass AND contype = 'f'`);
    // composite, including the partition key, so it can follow the table at the swap
    expect(fk).toEqual({ target: 'petri_observations', on_delete: 'c', def: expect.stringMatching(/^FOREIGN KEY \(observation_id, program_id\) REFERENCES (public\.)?petri_observations\(observation_id, program_id\)/) });
    const images = await one<{ n: number }>('SELECT count(*)::int AS n FROM public.petri_images');
    expect(images.n).toBe(40);
  });
});

describe('demo reset', () => {
  it('refuses to seed twice, and reset removes partwise leftovers found through pg_inherits', async () => {
    const db = await createTestDatabase('demo_reset');
    try {
      await withClient(db.config, async (client) => {
        await seedDemo(client, { rows: 200, programs: 3 });
        await expect(seedDemo(client, { rows: 200, programs: 3 })).rejects.toThrow(/already exist/);

        // What an interrupted conversion might leave behind.
        await client.query(`
          CREATE SCHEMA partwise;
          CREATE TABLE partwise.journal (id int);
          CREATE TABLE public.petri_observations_partitioned (program_id uuid, x int) PARTITION BY LIST (program_id);
          CREATE TABLE public."petri_obs_Odd ""name""" PARTITION OF public.petri_observations_partitioned
            FOR VALUES IN ('00000000-0000-4000-8000-000000000001') PARTITION BY RANGE (x);
          CREATE TABLE public.petri_obs_sub PARTITION OF public."petri_obs_Odd ""name""" FOR VALUES FROM (0) TO (10);
          CREATE TABLE public.petri_obs_unrelated (id int);`);

        await seedDemo(client, { rows: 300, programs: 4, reset: true });
        const left = await client.query<{ relname: string }>(
          "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relname LIKE 'petri_obs%' AND relkind IN ('r','p') ORDER BY 1",
        );
        expect(left.rows.map((r) => r.relname)).toEqual(['petri_obs_unrelated', 'petri_observations']);
        const schema = await client.query("SELECT 1 FROM pg_namespace WHERE nspname = 'partwise'");
        expect(schema.rowCount).toBe(0);
        const n = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM public.petri_observations');
        expect(n.rows[0]!.n).toBe(300);
      });
    } finally {
      await db.drop();
    }
  });
});
