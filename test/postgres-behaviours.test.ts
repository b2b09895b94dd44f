/**
 * The PostgreSQL behaviours partwise's design relies on, each reproduced on the real server (15 and the embedded
 * 17): one test per file in docs/behaviours/, named as the file cites it. Each test works in a schema of its own.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedListBound } from '../src/plan/listBound.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { waitUntil } from './helpers/waitUntil.js';

let db: TestDatabase;
const clients: pg.Client[] = [];

async function session(): Promise<pg.Client> {
  const c = new pg.Client(db.config);
  c.on('error', () => undefined);
  await c.connect();
  clients.push(c);
  return c;
}

/** A fresh schema, first on the search_path of the session returned (and of `also`). */
async function schema(name: string, ...also: pg.Client[]): Promise<pg.Client> {
  const c = await session();
  await c.query(`DROP SCHEMA IF EXISTS ${name} CASCADE; CREATE SCHEMA ${name}`);
  for (const x of [c, ...also]) await x.query(`SET search_path = ${name}, public`);
  return c;
}

const failure = async (p: Promise<unknown>): Promise<{ code?: string; message: string }> => {
  try {
    await p;
  } catch (e) {
    return { code: (e as { code?: string }).code, message: (e as Error).message };
  }
  throw new Error('expected the statement to fail');
};

const one = async <T = Record<string, unknown>>(c: pg.Client, sql: string, params: unknown[] = []) => (await c.query(sql, params)).rows[0] as T;

beforeAll(async () => {
  db = await createTestDatabase('pw_test_behaviours');
});
afterAll(async () => {
  for (const c of clients) await c.end().catch(() => undefined);
  await db?.drop();
});

describe('PostgreSQL behaviours partwise relies on (docs/behaviours/)', () => {
  it('deadlock-victim-is-the-first-waiter: in a lock cycle PostgreSQL ends the session that started waiting first; a waiter bounded by lock_timeout below deadlock_timeout gives up first', async () => {
    const [a, b, watch] = [await schema('b_deadlock_victim'), await session(), await session()];
    await b.query(`SET search_path = b_deadlock_victim, public`);
    await a.query(`CREATE TABLE t1 (i int); CREATE TABLE t2 (i int)`);
    // deadlock_timeout is the server's (superuser-only to change): the same for both, as on a real server
    for (const x of [a, b]) await x.query(`SET deadlock_timeout = '2s'`);
    const waiting = async (x: pg.Client) => {
      const pid = (await x.query<{ p: number }>('SELECT pg_backend_pid() AS p')).rows[0]!.p;
      return async () => (await watch.query(`SELECT 1 FROM pg_locks WHERE pid = $1 AND NOT granted`, [pid])).rowCount === 1;
    };
    // A holds t1 and waits for t2 first; B, holding t2, then asks for t1: A's wait reaches deadlock_timeout first
    const aWaits = await waiting(a);
    await a.query(`BEGIN; LOCK t1 IN ROW EXCLUSIVE MODE`);
    await b.query(`BEGIN; LOCK t2 IN ACCESS EXCLUSIVE MODE`);
    const aAsks = a.query(`LOCK t2 IN ROW EXCLUSIVE MODE`).then(() => null, (e: { code?: string }) => e.code ?? 'error');
    await waitUntil(aWaits, { what: 'A waiting for t2' });
    const bAsks = b.query(`LOCK t1 IN ACCESS EXCLUSIVE MODE`).then(() => null, (e: { code?: string }) => e.code ?? 'error');
    expect(await aAsks).toBe('40P01');
    expect(await bAsks).toBeNull();
    await a.query('ROLLBACK');
    await b.query('COMMIT');
    // the same cycle, but B (the later waiter) waits at most lock_timeout, less than deadlock_timeout: B gives up, A goes on
    await a.query(`BEGIN; LOCK t1 IN ROW EXCLUSIVE MODE`);
    await b.query(`BEGIN; SET LOCAL lock_timeout = '300ms'; LOCK t2 IN ACCESS EXCLUSIVE MODE`);
    const aAsksAgain = a.query(`LOCK t2 IN ROW EXCLUSIVE MODE`).then(() => null, (e: { code?: string }) => e.code ?? 'error');
    await waitUntil(aWaits, { what: 'A waiting for t2 again' });
    expect(await b.query(`LOCK t1 IN ACCESS EXCLUSIVE MODE`).then(() => null, (e: { code?: string }) => e.code ?? 'error')).toBe('55P03');
    await b.query('ROLLBACK');
    expect(await aAsksAgain).toBeNull();
    await a.query('COMMIT');
  });

  it('advisory-share-lock-waits-behind-exclusive: a share request made while an exclusive one waits is granted only after it', async () => {
    const [a, b, c, watch] = [await session(), await session(), await session(), await session()];
    const key = 'b_advisory_share';
    const granted = async () => (await watch.query<{ pid: number; granted: boolean }>(
      `SELECT pid, granted FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND classid = hashtext('partwise test')::oid AND objid = hashtext($1)::oid`, [key])).rows;
    const pidOf = async (x: pg.Client) => (await x.query<{ p: number }>('SELECT pg_backend_pid() AS p')).rows[0]!.p;
    const [pa, pb, pc] = [await pidOf(a), await pidOf(b), await pidOf(c)];
    const take = (x: pg.Client, mode: 'shared' | 'exclusive') =>
      x.query('BEGIN').then(() => x.query(`SELECT ${mode === 'shared' ? 'pg_advisory_xact_lock_shared' : 'pg_advisory_xact_lock'}(hashtext('partwise test'), hashtext($1))`, [key]));
    await take(a, 'shared');
    const bTook = take(b, 'exclusive');
    await waitUntil(async () => (await granted()).some((r) => r.pid === pb && !r.granted), { what: 'the exclusive request waiting' });
    const cTook = take(c, 'shared');
    await waitUntil(async () => (await granted()).some((r) => r.pid === pc && !r.granted), { what: 'the later share request waiting' });
    // A still holds its share: C, though compatible with A, waits behind B
    expect((await granted()).filter((r) => r.granted).map((r) => r.pid)).toEqual([pa]);
    await a.query('COMMIT');
    await bTook;
    expect((await granted()).find((r) => r.pid === pc)?.granted).toBe(false);
    await b.query('COMMIT');
    await cTook;
    expect((await granted()).find((r) => r.pid === pc)?.granted).toBe(true);
    await c.query('COMMIT');
  });

  it('foreign-key-into-partitioned-table: a foreign key references a partitioned table only through a unique constraint with the key', async () => {
    const c = await schema('b_fk_in');
    await c.query(`CREATE TABLE p (id int, k int, PRIMARY KEY (id, k)) PARTITION BY LIST (k); CREATE TABLE p1 PARTITION OF p FOR VALUES IN (1)`);
    const e = await failure(c.query(`CREATE TABLE child (id int REFERENCES p (id))`));
    expect(e.message).toMatch(/there is no unique constraint matching given keys for referenced table "p"/);
    await c.query(`CREATE TABLE child (id int, k int, FOREIGN KEY (id, k) REFERENCES p (id, k))`);
    await c.query(`INSERT INTO p VALUES (7, 1); INSERT INTO child VALUES (7, 1)`);
    expect((await failure(c.query(`INSERT INTO child VALUES (7, 2)`))).code).toBe('23503');
  });

  it('on-conflict-needs-the-extended-key: with the key in the primary key, ON CONFLICT (id) finds no constraint and id is unique per key only', async () => {
    const c = await schema('b_on_conflict');
    await c.query(`CREATE TABLE p (id int, k int, PRIMARY KEY (id, k)) PARTITION BY LIST (k);
                   CREATE TABLE p1 PARTITION OF p FOR VALUES IN (1); CREATE TABLE p2 PARTITION OF p FOR VALUES IN (2)`);
    const e = await failure(c.query(`INSERT INTO p VALUES (1, 1) ON CONFLICT (id) DO NOTHING`));
    expect(e.message).toMatch(/there is no unique or exclusion constraint matching the ON CONFLICT specification/);
    await c.query(`INSERT INTO p VALUES (1, 1) ON CONFLICT (id, k) DO NOTHING`);
    await c.query(`INSERT INTO p VALUES (1, 1) ON CONFLICT (id, k) DO NOTHING`);
    await c.query(`INSERT INTO p VALUES (1, 2)`);
    expect(Number((await one<{ n: string }>(c, `SELECT count(*) AS n FROM p WHERE id = 1`)).n)).toBe(2);
  });

  it('primary-key-makes-key-not-null: the key in the primary key is NOT NULL, so rows with a NULL key cannot be copied', async () => {
    const c = await schema('b_key_not_null');
    await c.query(`CREATE TABLE p (id int, k int, PRIMARY KEY (id, k)) PARTITION BY LIST (k); CREATE TABLE pd PARTITION OF p DEFAULT`);
    expect(await one(c, `SELECT attnotnull FROM pg_attribute WHERE attrelid = 'p'::regclass AND attname = 'k'`)).toEqual({ attnotnull: true });
    expect((await failure(c.query(`INSERT INTO p VALUES (1, NULL)`))).code).toBe('23502');
  });

  it('serial-sequence-follows-its-owner: DROP TABLE … CASCADE of the sequence\'s owner strips the default of a table using it, unless OWNED BY moved', async () => {
    const c = await schema('b_serial');
    await c.query(`CREATE TABLE old (n serial, v int); CREATE TABLE new (n int DEFAULT nextval('old_n_seq'), v int)`);
    await c.query(`DROP TABLE old CASCADE`);
    expect(await one(c, `SELECT pg_get_expr(adbin, adrelid) AS d FROM pg_attrdef WHERE adrelid = 'new'::regclass`)).toBeUndefined();
    expect(await one(c, `SELECT to_regclass('old_n_seq') AS s`)).toEqual({ s: null });
    await c.query(`CREATE TABLE old (n serial, v int); DROP TABLE new; CREATE TABLE new (n int DEFAULT nextval('old_n_seq'), v int)`);
    await c.query(`ALTER SEQUENCE old_n_seq OWNED BY new.n; DROP TABLE old CASCADE`);
    expect(await one(c, `SELECT pg_get_expr(adbin, adrelid) AS d FROM pg_attrdef WHERE adrelid = 'new'::regclass`)).toEqual({ d: `nextval('old_n_seq'::regclass)` });
  });

  it('generated-columns-not-insertable: a generated column takes no value in INSERT, so every column list leaves it out', async () => {
    const c = await schema('b_generated');
    await c.query(`CREATE TABLE t (a int, g int GENERATED ALWAYS AS (a * 2) STORED)`);
    expect((await failure(c.query(`INSERT INTO t (a, g) VALUES (1, 2)`))).message).toMatch(/cannot insert a non-DEFAULT value into column "g"/);
    await c.query(`INSERT INTO t (a) VALUES (1)`);
    expect(await one(c, `SELECT g FROM t`)).toEqual({ g: 2 });
  });

  it('insert-select-star-is-by-position: SELECT * fills columns by position, so a dropped and re-added column swaps values silently', async () => {
    const c = await schema('b_by_position');
    await c.query(`CREATE TABLE s (a int, b int); ALTER TABLE s DROP COLUMN a; ALTER TABLE s ADD COLUMN a int; INSERT INTO s (a, b) VALUES (1, 2)`);
    await c.query(`CREATE TABLE t (a int, b int); INSERT INTO t SELECT * FROM s`);
    expect(await one(c, `SELECT a, b FROM t`)).toEqual({ a: 2, b: 1 });
    await c.query(`TRUNCATE t; INSERT INTO t (a, b) SELECT a, b FROM s`);
    expect(await one(c, `SELECT a, b FROM t`)).toEqual({ a: 1, b: 2 });
  });

  it('columns-added-to-the-parent-only: a column cannot be added to a partition; added to the parent, every partition has it', async () => {
    const c = await schema('b_add_column');
    await c.query(`CREATE TABLE p (id int, k int) PARTITION BY LIST (k); CREATE TABLE p1 PARTITION OF p FOR VALUES IN (1)`);
    expect((await failure(c.query(`ALTER TABLE p1 ADD COLUMN x int`))).message).toMatch(/cannot add column to a partition/);
    await c.query(`ALTER TABLE p ADD COLUMN x int DEFAULT 5; INSERT INTO p1 (id, k) VALUES (1, 1)`);
    expect(await one(c, `SELECT x FROM p1`)).toEqual({ x: 5 });
  });

  it('no-not-valid-foreign-key-from-partitioned-table: a foreign key from a partitioned table cannot be added NOT VALID', async () => {
    const c = await schema('b_fk_not_valid');
    await c.query(`CREATE TABLE r (id int PRIMARY KEY); CREATE TABLE p (id int, k int, rid int) PARTITION BY LIST (k); CREATE TABLE p1 PARTITION OF p FOR VALUES IN (1)`);
    const e = await failure(c.query(`ALTER TABLE p ADD CONSTRAINT p_r FOREIGN KEY (rid) REFERENCES r (id) NOT VALID`));
    expect(e.message).toMatch(/cannot add NOT VALID foreign key on partitioned table "p"/);
    await c.query(`ALTER TABLE p ADD CONSTRAINT p_r FOREIGN KEY (rid) REFERENCES r (id)`);
  });

  it('rename-leaves-oid-bindings-behind: after a rename, views, policies, triggers, grants and publication membership stay with the renamed table', async () => {
    const c = await schema('b_rename');
    await c.query(`CREATE TABLE t (id int); CREATE VIEW v AS SELECT id FROM t; CREATE POLICY pol ON t USING (true); GRANT SELECT ON t TO PUBLIC;
                   CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
                   CREATE TRIGGER trg BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION f();
                   CREATE PUBLICATION b_rename_pub FOR TABLE t`);
    await c.query(`ALTER TABLE t RENAME TO t_old; CREATE TABLE t (id int)`);
    expect(await one(c, `SELECT pg_get_viewdef('v'::regclass) ~ 't_old' AS old`)).toEqual({ old: true });
    expect(await one(c, `SELECT polrelid::regclass::text AS r FROM pg_policy WHERE polname = 'pol'`)).toEqual({ r: 't_old' });
    expect(await one(c, `SELECT tgrelid::regclass::text AS r FROM pg_trigger WHERE tgname = 'trg'`)).toEqual({ r: 't_old' });
    expect(await one(c, `SELECT relacl IS NULL AS none FROM pg_class WHERE oid = 't'::regclass`)).toEqual({ none: true });
    expect(await one(c, `SELECT tablename FROM pg_publication_tables WHERE pubname = 'b_rename_pub'`)).toEqual({ tablename: 't_old' });
    await c.query(`DROP PUBLICATION b_rename_pub`);
  });

  it('creating-a-partition-locks-the-parent: CREATE TABLE … PARTITION OF holds ACCESS EXCLUSIVE on the parent and the default partition until commit', async () => {
    const c = await schema('b_partition_lock');
    await c.query(`CREATE TABLE p (id int, k int) PARTITION BY LIST (k); CREATE TABLE pd PARTITION OF p DEFAULT`);
    await c.query(`BEGIN; CREATE TABLE p1 PARTITION OF p FOR VALUES IN (1)`);
    const held = await c.query(`SELECT relation::regclass::text AS rel, mode FROM pg_locks WHERE pid = pg_backend_pid() AND relation IN ('p'::regclass, 'pd'::regclass) AND granted ORDER BY 1, 2`);
    await c.query('COMMIT');
    expect(held.rows).toEqual(expect.arrayContaining([{ rel: 'p', mode: 'AccessExclusiveLock' }, { rel: 'pd', mode: 'AccessExclusiveLock' }]));
  });

  it('parent-indexes-reach-every-partition: an index on the partitioned parent is built on every partition and on later ones; another per partition is a duplicate', async () => {
    const c = await schema('b_parent_index');
    await c.query(`CREATE TABLE p (id int, k int) PARTITION BY LIST (k); CREATE TABLE p1 PARTITION OF p FOR VALUES IN (1); CREATE INDEX ON p (id)`);
    await c.query(`CREATE TABLE p2 PARTITION OF p FOR VALUES IN (2)`);
    const count = async (t: string) => Number((await one<{ n: string }>(c, `SELECT count(*) AS n FROM pg_index WHERE indrelid = $1::regclass`, [t])).n);
    expect([await count('p1'), await count('p2')]).toEqual([1, 1]);
    await c.query(`CREATE INDEX ON p1 (id)`);
    expect(await count('p1')).toBe(2);
  });

  it('default-partition-blocks-a-new-partition: rows of X in the default stop a partition for X; the safe move attaches one', async () => {
    const c = await schema('b_default_move');
    await c.query(`CREATE TABLE p (id int, k int) PARTITION BY LIST (k); CREATE TABLE pd PARTITION OF p DEFAULT; INSERT INTO p VALUES (1, 7), (2, 8)`);
    const e = await failure(c.query(`CREATE TABLE p7 PARTITION OF p FOR VALUES IN (7)`));
    expect(e.message).toMatch(/updated partition constraint for default partition "pd" would be violated by some row/);
    await c.query(`CREATE TABLE p7 (LIKE p); ALTER TABLE p7 ADD CONSTRAINT p7_k CHECK (k IS NOT NULL AND k = 7)`);
    await c.query(`BEGIN; LOCK TABLE pd IN ACCESS EXCLUSIVE MODE;
                   WITH moved AS (DELETE FROM pd WHERE k = 7 RETURNING *) INSERT INTO p7 SELECT * FROM moved;
                   ALTER TABLE p ATTACH PARTITION p7 FOR VALUES IN (7); COMMIT`);
    expect((await c.query(`SELECT tableoid::regclass::text AS part, k FROM p ORDER BY k`)).rows).toEqual([{ part: 'p7', k: 7 }, { part: 'pd', k: 8 }]);
  });

  it('rows-without-a-partition-go-to-the-default: a key with no partition lands in the default partition, or fails without one', async () => {
    const c = await schema('b_default_rows');
    await c.query(`CREATE TABLE p (id int, k int) PARTITION BY LIST (k); CREATE TABLE p1 PARTITION OF p FOR VALUES IN (1)`);
    expect((await failure(c.query(`INSERT INTO p VALUES (1, 9)`))).message).toMatch(/no partition of relation "p" found for row/);
    await c.query(`CREATE TABLE pd PARTITION OF p DEFAULT; INSERT INTO p VALUES (1, 9)`);
    expect(await one(c, `SELECT tableoid::regclass::text AS part FROM p WHERE k = 9`)).toEqual({ part: 'pd' });
  });

  it('batched-copy-resurrects-deletes: a copy batch with ON CONFLICT DO NOTHING and a direct-apply delete trigger brings back a row deleted during the batch', async () => {
    const copier = await session();
    const app = await schema('b_resurrect', copier);
    await app.query(`CREATE TABLE src (id int PRIMARY KEY, v text); CREATE TABLE dst (id int PRIMARY KEY, v text); INSERT INTO src VALUES (1, 'a'), (2, 'b')`);
    // the naive design: deletes on the source are applied to the copy at once
    await app.query(`CREATE FUNCTION del() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN DELETE FROM dst WHERE id = OLD.id; RETURN OLD; END $$;
                     CREATE TRIGGER del AFTER DELETE ON src FOR EACH ROW EXECUTE FUNCTION del()`);
    // the batch's snapshot is taken before the application deletes row 1
    await copier.query(`BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM src`);
    await app.query(`DELETE FROM src WHERE id = 1`);
    await copier.query(`INSERT INTO dst SELECT * FROM src ON CONFLICT DO NOTHING; COMMIT`);
    expect((await app.query(`SELECT id FROM src ORDER BY id`)).rows).toEqual([{ id: 2 }]);
    expect((await app.query(`SELECT id FROM dst ORDER BY id`)).rows).toEqual([{ id: 1 }, { id: 2 }]);
  });

  it('json-has-no-hash-function: hash_record_extended() fails on a json column; its text form hashes', async () => {
    const c = await schema('b_json_hash');
    expect((await failure(c.query(`SELECT hash_record_extended(ROW('{"a": 1}'::json), 0)`))).message).toMatch(/could not identify an extended hash function for type json/);
    await c.query(`SELECT hash_record_extended(ROW('{"a": 1}'::json::text), 0)`);
    // duplicates: an xor of hashes cancels a pair, a sum does not
    const r = await one<{ x: string; s: string }>(c, `SELECT bit_xor(h)::text AS x, sum(h::numeric)::text AS s FROM (VALUES (hashtextextended('r', 0)), (hashtextextended('r', 0))) v(h)`);
    expect(r.x).toBe('0');
    expect(r.s).not.toBe('0');
  });

  it('text-form-follows-session-settings: a timestamptz as text depends on the session\'s TimeZone', async () => {
    const c = await schema('b_text_form');
    await c.query(`SET TimeZone = 'UTC'`);
    const utc = await one<{ t: string }>(c, `SELECT '2026-01-01 12:00:00+00'::timestamptz::text AS t`);
    await c.query(`SET TimeZone = 'Asia/Tokyo'`);
    const tokyo = await one<{ t: string }>(c, `SELECT '2026-01-01 12:00:00+00'::timestamptz::text AS t`);
    expect([utc.t, tokyo.t]).toEqual(['2026-01-01 12:00:00+00', '2026-01-01 21:00:00+09']);
  });

  it('count-only-parent-is-zero: a partitioned parent holds no rows itself: ONLY counts 0 and its own size is 0', async () => {
    const c = await schema('b_only_parent');
    await c.query(`CREATE TABLE p (id int, k int) PARTITION BY LIST (k); CREATE TABLE p1 PARTITION OF p FOR VALUES IN (1); INSERT INTO p SELECT g, 1 FROM generate_series(1, 100) g`);
    expect(await one(c, `SELECT (SELECT count(*) FROM ONLY p)::int AS only, (SELECT count(*) FROM p)::int AS all, pg_relation_size('p')::int AS size`)).toEqual({ only: 0, all: 100, size: 0 });
    expect(Number((await one<{ n: string }>(c, `SELECT sum(pg_total_relation_size(relid)) AS n FROM pg_partition_tree('p')`)).n)).toBeGreaterThan(0);
  });

  it('reltuples-is-as-of-the-last-analyze: reltuples and relpages stay at the last ANALYZE while rows arrive; -1 before any', async () => {
    const c = await schema('b_reltuples');
    await c.query(`CREATE TABLE t (id int, pad text) WITH (autovacuum_enabled = false)`);
    expect(Number((await one<{ n: string }>(c, `SELECT reltuples AS n FROM pg_class WHERE oid = 't'::regclass`)).n)).toBe(-1);
    await c.query(`INSERT INTO t SELECT g, repeat('x', 100) FROM generate_series(1, 1000) g; ANALYZE t`);
    await c.query(`INSERT INTO t SELECT g, repeat('x', 100) FROM generate_series(1, 9000) g`);
    const r = await one<{ tuples: string; pages: number; now_pages: string }>(c,
      `SELECT reltuples AS tuples, relpages AS pages, pg_relation_size(oid) / current_setting('block_size')::int AS now_pages FROM pg_class WHERE oid = 't'::regclass`);
    expect(Number(r.tuples)).toBe(1000);
    expect(Number(r.now_pages)).toBeGreaterThan(r.pages * 5);
    // the planner's way: the analyzed rows per page times the pages now
    expect(Math.abs((Number(r.tuples) / r.pages) * Number(r.now_pages) - 10_000)).toBeLessThan(500);
  });

  it('list-bound-text: the server prints a one-value LIST bound as partwise expects, for every key type it supports', async () => {
    const c = await schema('b_bound_text');
    const cases: Array<[string, string]> = [
      ['integer', '5'], ['integer', '-5'], ['bigint', '5'], ['smallint', '3'], ['text', "o'brien"], ['character varying', 'a b'],
      ['uuid', '6c1f0e8e-2b7e-4d3c-9f6a-0d4c8d1e2f3a'],
    ];
    for (const [i, [type, key]] of cases.entries()) {
      await c.query(`CREATE TABLE p${i} (k ${type}) PARTITION BY LIST (k)`);
      await c.query(`CREATE TABLE p${i}_a PARTITION OF p${i} FOR VALUES IN (${pg.escapeLiteral(key)}::${type})`);
      const printed = await one<{ b: string }>(c, `SELECT pg_get_expr(relpartbound, oid) AS b FROM pg_class WHERE oid = $1::regclass`, [`p${i}_a`]);
      expect({ type, key, bound: printed.b }).toEqual({ type, key, bound: expectedListBound(type, key) });
    }
  });

  it('like-underscore-matches-any-character: in LIKE, _ matches any one character, so name patterns catch other tables', async () => {
    const c = await schema('b_like');
    expect(await one(c, `SELECT 'petri_observations' LIKE 'petri_obs_%' AS hit, 'petri_observations' LIKE 'petri\\_obs\\_%' AS escaped`)).toEqual({ hit: true, escaped: false });
  });

  it('subquery-key-prunes-at-execution: a key from a subquery is pruned only when the plan runs; a literal is pruned while planning', async () => {
    const c = await schema('b_pruning');
    await c.query(`CREATE TABLE l (id int, name text); INSERT INTO l VALUES (1, 'one'), (2, 'two'), (3, 'three');
                   CREATE TABLE p (id int, k int) PARTITION BY LIST (k);
                   CREATE TABLE p1 PARTITION OF p FOR VALUES IN (1); CREATE TABLE p2 PARTITION OF p FOR VALUES IN (2); CREATE TABLE p3 PARTITION OF p FOR VALUES IN (3);
                   INSERT INTO p SELECT g, 1 + g % 3 FROM generate_series(1, 300) g; ANALYZE p`);
    const plan = async (sql: string) => (await c.query(sql)).rows.map((r) => r['QUERY PLAN'] as string).join('\n');
    const planned = await plan(`EXPLAIN (COSTS OFF) SELECT count(*) FROM p WHERE k = (SELECT id FROM l WHERE name = 'two')`);
    expect(planned.match(/Seq Scan on p\d/g)?.length).toBe(3);
    const ran = await plan(`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT count(*) FROM p WHERE k = (SELECT id FROM l WHERE name = 'two')`);
    expect(ran.match(/Seq Scan on p\d.*\(never executed\)/g)?.length).toBe(2);
    const literal = await plan(`EXPLAIN (COSTS OFF) SELECT count(*) FROM p WHERE k = 2`);
    expect(literal.match(/Seq Scan on p\d/g)).toEqual(['Seq Scan on p2']);
  });

  it('default-privileges-reach-new-tables-and-partitions: default privileges grant every new table and partition to their roles', async () => {
    const c = await schema('b_default_acl');
    const role = `b_default_acl_${db.name.slice(-6)}`;
    await c.query(`CREATE ROLE ${role} NOLOGIN`);
    try {
      await c.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA b_default_acl GRANT ALL ON TABLES TO ${role}`);
      await c.query(`CREATE TABLE p (id int, k int) PARTITION BY LIST (k); CREATE TABLE p1 PARTITION OF p FOR VALUES IN (1)`);
      expect(await one(c, `SELECT has_table_privilege($1, 'p', 'INSERT') AS parent, has_table_privilege($1, 'p1', 'DELETE') AS partition`, [role])).toEqual({ parent: true, partition: true });
    } finally {
      await c.query(`DROP SCHEMA b_default_acl CASCADE; DROP OWNED BY ${role}; DROP ROLE ${role}`);
    }
  });

  it('replica-identity-does-not-propagate: REPLICA IDENTITY set on a partitioned parent leaves its partitions as they were', async () => {
    const c = await schema('b_replica_identity');
    await c.query(`CREATE TABLE p (id int, k int) PARTITION BY LIST (k); CREATE TABLE p1 PARTITION OF p FOR VALUES IN (1); ALTER TABLE p REPLICA IDENTITY FULL`);
    expect((await c.query(`SELECT relname, relreplident FROM pg_class WHERE relname IN ('p', 'p1') AND relnamespace = 'b_replica_identity'::regnamespace ORDER BY 1`)).rows)
      .toEqual([{ relname: 'p', relreplident: 'f' }, { relname: 'p1', relreplident: 'd' }]);
  });

  it('publication-lists-leaf-partitions: a publication of a partitioned table publishes its partitions, unless publish_via_partition_root', async () => {
    const c = await schema('b_publication');
    await c.query(`CREATE TABLE p (id int, k int) PARTITION BY LIST (k); CREATE TABLE p1 PARTITION OF p FOR VALUES IN (1);
                   CREATE PUBLICATION b_pub_leaf FOR TABLE p; CREATE PUBLICATION b_pub_root FOR TABLE p WITH (publish_via_partition_root = true)`);
    try {
      const tables = async (pub: string) => (await c.query(`SELECT tablename FROM pg_publication_tables WHERE pubname = $1`, [pub])).rows.map((r) => r.tablename);
      expect(await tables('b_pub_leaf')).toEqual(['p1']);
      expect(await tables('b_pub_root')).toEqual(['p']);
    } finally {
      await c.query(`DROP PUBLICATION b_pub_leaf; DROP PUBLICATION b_pub_root`);
    }
  });

  it('before-trigger-cannot-move-a-row: a BEFORE ROW trigger that assigns the key fails on a partitioned table (the row is routed first)', async () => {
    const c = await schema('b_before_trigger');
    await c.query(`CREATE TABLE p (id int, k int) PARTITION BY LIST (k); CREATE TABLE p1 PARTITION OF p FOR VALUES IN (1); CREATE TABLE pd PARTITION OF p DEFAULT;
                   CREATE FUNCTION set_k() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.k IS NULL THEN NEW.k := 1; END IF; RETURN NEW; END $$;
                   CREATE TRIGGER set_k BEFORE INSERT ON p FOR EACH ROW EXECUTE FUNCTION set_k()`);
    expect((await failure(c.query(`INSERT INTO p (id) VALUES (1)`))).message).toMatch(/moving row to another partition during a BEFORE FOR EACH ROW trigger is not supported/);
    // the same trigger on a plain table works
    await c.query(`CREATE TABLE t (id int, k int); CREATE TRIGGER set_k BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION set_k(); INSERT INTO t (id) VALUES (1)`);
    expect(await one(c, `SELECT k FROM t`)).toEqual({ k: 1 });
  });

  it('trigger-enable-modes: a disabled trigger fires for no session; ENABLE ALWAYS fires even under session_replication_role = replica', async () => {
    const c = await schema('b_trigger_modes');
    await c.query(`CREATE TABLE t (id int); CREATE TABLE log (what text);
                   CREATE FUNCTION note() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO log VALUES (TG_NAME); RETURN NEW; END $$;
                   CREATE TRIGGER plain AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION note();
                   CREATE TRIGGER always AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION note(); ALTER TABLE t ENABLE ALWAYS TRIGGER always;
                   CREATE TRIGGER off AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION note(); ALTER TABLE t DISABLE TRIGGER off`);
    await c.query(`INSERT INTO t VALUES (1)`);
    await c.query(`SET session_replication_role = replica; INSERT INTO t VALUES (2); RESET session_replication_role`);
    expect((await c.query(`SELECT what FROM log ORDER BY what`)).rows.map((r) => r.what)).toEqual(['always', 'always', 'plain']);
  });

  it('row-trigger-cloned-to-partitions: a row trigger on a partitioned table is cloned onto every partition, later ones too, and cannot be dropped from one', async () => {
    const c = await schema('b_trigger_clone');
    await c.query(`CREATE TABLE p (id int, k int) PARTITION BY LIST (k); CREATE TABLE p1 PARTITION OF p FOR VALUES IN (1);
                   CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
                   CREATE TRIGGER trg AFTER INSERT ON p FOR EACH ROW EXECUTE FUNCTION f(); CREATE TABLE p2 PARTITION OF p FOR VALUES IN (2)`);
    const clones = await c.query(`SELECT tgrelid::regclass::text AS rel, tgparentid <> 0 AS clone FROM pg_trigger WHERE tgname = 'trg' AND tgrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'b_trigger_clone'::regnamespace) ORDER BY 1`);
    expect(clones.rows).toEqual([{ rel: 'p', clone: false }, { rel: 'p1', clone: true }, { rel: 'p2', clone: true }]);
    expect((await failure(c.query(`DROP TRIGGER trg ON p1`))).message).toMatch(/cannot drop trigger trg on table p1 because trigger trg on table p requires it/);
  });

  it('key-update-moves-the-row-concurrent-writers-get-40001: an UPDATE that changes the key moves the row; a concurrent update of it fails with 40001', async () => {
    const b = await session();
    const a = await schema('b_row_move', b);
    await a.query(`CREATE TABLE p (id int, k int, v int) PARTITION BY LIST (k); CREATE TABLE p1 PARTITION OF p FOR VALUES IN (1); CREATE TABLE p2 PARTITION OF p FOR VALUES IN (2);
                   INSERT INTO p VALUES (1, 1, 0)`);
    await a.query(`BEGIN; UPDATE p SET k = 2 WHERE id = 1`);
    const bPid = (await one<{ pid: number }>(b, `SELECT pg_backend_pid() AS pid`)).pid;
    const blocked = b.query(`UPDATE p SET v = v + 1 WHERE id = 1`).then(() => null, (e: { code?: string; message: string }) => e);
    await waitUntil(async () => (await one<{ w: boolean }>(a, `SELECT wait_event_type = 'Lock' AS w FROM pg_stat_activity WHERE pid = $1`, [bPid]))?.w === true, { what: 'the second update to wait for the row' });
    await a.query('COMMIT');
    const e = await blocked;
    expect(e?.code).toBe('40001');
    expect(e?.message).toMatch(/tuple to be locked was already moved to another partition due to concurrent update/);
    expect(await one(a, `SELECT tableoid::regclass::text AS part, v FROM p WHERE id = 1`)).toEqual({ part: 'p2', v: 0 });
  });

  it('detach-concurrently-refused-with-default-partition: CONCURRENTLY is refused beside a default partition and in a transaction block; a plain DETACH locks the parent, the partition and the default', async () => {
    const c = await schema('b_detach_default');
    await c.query(`CREATE TABLE p (id int, k int) PARTITION BY LIST (k); CREATE TABLE p1 PARTITION OF p FOR VALUES IN (1); CREATE TABLE p2 PARTITION OF p FOR VALUES IN (2)`);
    expect((await failure(c.query(`BEGIN; ALTER TABLE p DETACH PARTITION p2 CONCURRENTLY`))).message).toMatch(/cannot run inside a transaction block/);
    await c.query('ROLLBACK');
    await c.query(`CREATE TABLE pd PARTITION OF p DEFAULT`);
    expect((await failure(c.query(`ALTER TABLE p DETACH PARTITION p1 CONCURRENTLY`))).message).toMatch(/cannot detach partitions concurrently when a default partition exists/);
    await c.query(`BEGIN; ALTER TABLE p DETACH PARTITION p1`);
    const held = await c.query(`SELECT relation::regclass::text AS rel FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'relation' AND mode = 'AccessExclusiveLock' AND granted
      AND relation IN ('p'::regclass, 'p1'::regclass, 'pd'::regclass) ORDER BY 1`);
    await c.query('COMMIT');
    expect(held.rows.map((r) => r.rel)).toEqual(['p', 'p1', 'pd']);
  });

  it('detach-concurrently-leaves-pending-on-timeout: a DETACH … CONCURRENTLY whose wait times out leaves the partition pending; only FINALIZE completes it', async () => {
    const c = await schema('b_detach_pending');
    const reader = await session();
    await c.query(`CREATE TABLE p (id int, k int) PARTITION BY LIST (k); CREATE TABLE p1 PARTITION OF p FOR VALUES IN (1); INSERT INTO p VALUES (1, 1)`);
    await reader.query(`BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM b_detach_pending.p`);
    await c.query(`SET lock_timeout = '200ms'`);
    expect((await failure(c.query(`ALTER TABLE p DETACH PARTITION p1 CONCURRENTLY`))).code).toBe('55P03');
    expect(await one(c, `SELECT inhdetachpending AS pending FROM pg_inherits WHERE inhrelid = 'p1'::regclass`)).toEqual({ pending: true });
    expect((await failure(c.query(`ALTER TABLE p DETACH PARTITION p1 CONCURRENTLY`))).message).toMatch(/pending detach|FINALIZE/);
    await reader.query('ROLLBACK');
    await c.query(`ALTER TABLE p DETACH PARTITION p1 FINALIZE`);
    expect(await one(c, `SELECT count(*)::int AS n FROM pg_inherits WHERE inhrelid = 'p1'::regclass`)).toEqual({ n: 0 });
  });

  it('drop-column-leaves-a-dropped-attribute: DROP COLUMN leaves a dropped pg_attribute row; rows read as before; a re-added constraint gets a new OID', async () => {
    const c = await schema('b_drop_column');
    await c.query(`CREATE TABLE p (id int PRIMARY KEY); CREATE TABLE t (a int, b int REFERENCES p (id)); INSERT INTO p VALUES (2); INSERT INTO t VALUES (1, 2)`);
    const before = await one<{ j: string }>(c, `SELECT to_jsonb(t)::text AS j FROM t`);
    await c.query(`ALTER TABLE t ADD COLUMN k int; ALTER TABLE t DROP COLUMN k`);
    const atts = await c.query(`SELECT attnum, attisdropped FROM pg_attribute WHERE attrelid = 't'::regclass AND attnum > 0 ORDER BY attnum`);
    expect(atts.rows).toEqual([{ attnum: 1, attisdropped: false }, { attnum: 2, attisdropped: false }, { attnum: 3, attisdropped: true }]);
    expect(await one(c, `SELECT to_jsonb(t)::text AS j FROM t`)).toEqual(before);
    const fk = async () => one<{ oid: number; def: string; name: string }>(c, `SELECT oid::int AS oid, pg_get_constraintdef(oid) AS def, conname AS name FROM pg_constraint WHERE conrelid = 't'::regclass AND contype = 'f'`);
    const was = await fk();
    await c.query(`ALTER TABLE t DROP CONSTRAINT "${was.name}", ADD CONSTRAINT "${was.name}" FOREIGN KEY (b) REFERENCES p (id)`);
    const now = await fk();
    expect({ def: now.def, name: now.name }).toEqual({ def: was.def, name: was.name });
    expect(now.oid).not.toBe(was.oid);
  });

  it('match-simple-skips-rows-with-a-null-column: a MATCH SIMPLE foreign key accepts a row with a NULL column; a deferred constraint trigger sees a parent inserted later', async () => {
    const c = await schema('b_match_simple');
    await c.query(`CREATE TABLE p (id int, k int, PRIMARY KEY (id, k)); CREATE TABLE c (id int, k int, FOREIGN KEY (id, k) REFERENCES p (id, k));
                   CREATE TABLE seen (n int);
                   CREATE FUNCTION count_parents() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN INSERT INTO seen SELECT count(*) FROM p WHERE id = NEW.id; RETURN NULL; END $f$;
                   CREATE CONSTRAINT TRIGGER late AFTER INSERT ON c DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION count_parents()`);
    await c.query(`INSERT INTO c VALUES (42, NULL)`);
    expect((await failure(c.query(`INSERT INTO c VALUES (42, 1)`))).code).toBe('23503');
    await c.query(`BEGIN; INSERT INTO c VALUES (7, NULL); INSERT INTO p VALUES (7, 1); COMMIT`);
    expect((await c.query(`SELECT n FROM seen ORDER BY n`)).rows).toEqual([{ n: 0 }, { n: 1 }]);
  });
});
