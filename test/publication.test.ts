/**
 * A logical-replication subscriber (CREATE SUBSCRIPTION, pgoutput) of the table, on a real second cluster: check
 * fails and says how to go on; with --publish-via-root the subscriber keeps receiving every change under the
 * original name through the swap, after it, and after a rollback. Publisher and subscriber are clusters of the test's
 * own (the publisher needs wal_level = logical).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { seedDemo } from '../src/demo/seedDemo.js';
import { resultOf, runCli, type CliRun } from './helpers/cli.js';
import { startCluster, type Cluster } from './helpers/cluster.js';
import { connect, dropDemoForeignKeysIn, startWriter, type Writer } from './helpers/moveSetup.js';
import { waitUntil } from './helpers/waitUntil.js';

const ROWS = `SELECT observation_id::text AS id, program_id::text AS program, growth_index::text AS growth FROM public.petri_observations ORDER BY 1`;

const item = (run: CliRun, id: string) => run.events.find((e) => e.type === 'check' && (e.item as { id: string }).id === id)?.item as
  { status: string; reason: string; todo?: string; details?: string[] } | undefined;

describe('a logical-replication subscriber of the table', () => {
  let pub: Cluster;
  let sub: Cluster;
  let publisher: pg.Client;
  let subscriber: pg.Client;
  let url: string;

  beforeAll(async () => {
    [pub, sub] = await Promise.all([startCluster({ wal_level: 'logical' }), startCluster()]);
    const root = await connect(pub.config());
    await root.query('CREATE DATABASE app');
    await root.end();
    publisher = await connect(pub.config('app'));
    await seedDemo(publisher, { rows: 3000, programs: 3 });
    await dropDemoForeignKeysIn(publisher);
    // another partitioned table in the publication: --publish-via-root changes how it is published too
    await publisher.query(`CREATE TABLE public.other_events (id int, k int) PARTITION BY LIST (k); CREATE TABLE public.other_events_1 PARTITION OF public.other_events FOR VALUES IN (1)`);
    await publisher.query(`CREATE PUBLICATION app_pub FOR TABLE public.petri_observations, public.other_events`);
    url = pub.url('app');

    // the subscriber's copy: the published columns (generated ones are not replicated), as text
    const cols = (await publisher.query<{ name: string }>(
      `SELECT quote_ident(attname) AS name FROM pg_attribute WHERE attrelid = 'public.petri_observations'::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = '' ORDER BY attnum`,
    )).rows.map((r) => r.name);
    const rootSub = await connect(sub.config());
    await rootSub.query('CREATE DATABASE app_copy');
    await rootSub.end();
    subscriber = await connect(sub.config('app_copy'));
    await subscriber.query(`CREATE TABLE public.petri_observations (${cols.map((c) => `${c} text`).join(', ')}, PRIMARY KEY (observation_id))`);
    await subscriber.query(`CREATE TABLE public.other_events (id int, k int); CREATE TABLE public.other_events_1 (id int, k int)`);
    await subscriber.query(`CREATE SUBSCRIPTION app_sub CONNECTION 'host=127.0.0.1 port=${pub.port} dbname=app user=postgres' PUBLICATION app_pub`);
    await caughtUp();
  });

  afterAll(async () => {
    // the subscription first: dropping it drops its slot on the publisher
    await subscriber?.query('DROP SUBSCRIPTION IF EXISTS app_sub').catch(() => undefined);
    await subscriber?.end().catch(() => undefined);
    await publisher?.end().catch(() => undefined);
    await Promise.all([sub?.stop(), pub?.stop()]);
  });

  /** The subscriber has exactly the publisher's rows (it applied every change), without an apply error. */
  async function caughtUp(): Promise<void> {
    const expected = JSON.stringify((await publisher.query(ROWS)).rows);
    let last = '';
    await waitUntil(async () => (last = JSON.stringify((await subscriber.query(ROWS)).rows)) === expected, {
      what: 'the subscriber to have every row of the publisher', timeoutMs: 90_000,
      last: () => `publisher ${expected.length} chars, subscriber ${last.length} chars`,
    });
    const errors = await subscriber.query(`SELECT apply_error_count::int AS n FROM pg_stat_subscription_stats WHERE subname = 'app_sub'`);
    expect(errors.rows[0].n).toBe(0);
  }

  it('check names the publication, fails, says what breaks and gives the two ways out', async () => {
    const r = await runCli(['check', '--json', '--url', url]);
    expect(resultOf(r)).toMatchObject({ ok: false, exitCode: 3 });
    const p = item(r, 'publication:app_pub');
    expect(p?.status).toBe('fail');
    expect(p?.reason).toContain('publish_via_partition_root = false');
    expect(p?.reason).toContain('does not exist" and retries for ever');
    expect(p?.reason).toContain('keeps WAL');
    expect(p?.details?.join(' ')).toContain('slot app_sub (a subscriber is connected)');
    expect(p?.todo).toContain('--publish-via-root');
    expect(p?.todo).toContain('"public"."other_events"');
    expect(p?.todo).toContain('ALTER PUBLICATION "app_pub" DROP TABLE "public"."petri_observations"');
  });

  it('with --publish-via-root, check passes the publication and names the other partitioned table; plan shows the statement', async () => {
    const r = await runCli(['check', '--publish-via-root', '--json', '--url', url]);
    const p = item(r, 'publication:app_pub');
    expect(p?.status).toBe('warn');
    expect(p?.reason).toContain('the swap sets publish_via_partition_root = true on app_pub');
    expect(p?.reason).toContain('"public"."other_events"');
    const plan = await runCli(['plan', '--publish-via-root', '--url', url]);
    expect(plan.stdout).toContain('ALTER PUBLICATION "app_pub" SET (publish_via_partition_root = true);');
  });

  it('FOR ALL TABLES: check fails before create, since a subscriber stops at the first table partwise creates', async () => {
    await publisher.query('CREATE PUBLICATION everything FOR ALL TABLES');
    try {
      const r = await runCli(['check', '--publish-via-root', '--json', '--url', url]);
      const p = item(r, 'publication:everything');
      expect(p?.status).toBe('fail');
      expect(p?.reason).toContain('FOR ALL TABLES');
      expect(p?.reason).toContain("partwise's journal and change log (schema partwise)");
      expect(p?.todo).toContain('ALTER SUBSCRIPTION … SET PUBLICATION');
    } finally {
      await publisher.query('DROP PUBLICATION everything');
    }
    // the PostgreSQL behaviour behind it (docs/behaviours/for-all-tables-publishes-new-tables.md), in databases of their own
    const root = await connect(pub.config());
    await root.query('CREATE DATABASE other');
    await root.end();
    const rootSub = await connect(sub.config());
    await rootSub.query('CREATE DATABASE other_copy');
    await rootSub.end();
    const p2 = await connect(pub.config('other'));
    const s2 = await connect(sub.config('other_copy'));
    try {
      await p2.query('CREATE TABLE t (id int PRIMARY KEY); CREATE PUBLICATION every FOR ALL TABLES');
      await s2.query('CREATE TABLE t (id int PRIMARY KEY)');
      await s2.query(`CREATE SUBSCRIPTION every_sub CONNECTION 'host=127.0.0.1 port=${pub.port} dbname=other user=postgres' PUBLICATION every`);
      await p2.query('INSERT INTO t VALUES (1)');
      await waitUntil(async () => (await s2.query('SELECT count(*)::int AS n FROM t')).rows[0].n === 1, { what: 'the first row replicated' });
      await p2.query('CREATE TABLE created_later (id int); INSERT INTO created_later VALUES (1); INSERT INTO t VALUES (2)');
      await waitUntil(async () => (await s2.query(`SELECT apply_error_count::int AS n FROM pg_stat_subscription_stats WHERE subname = 'every_sub'`)).rows[0]?.n > 0, { what: 'the apply error' });
      // the row written after the new table's never arrives
      expect((await s2.query('SELECT count(*)::int AS n FROM t')).rows[0].n).toBe(1);
    } finally {
      await s2.query('DROP SUBSCRIPTION IF EXISTS every_sub').catch(() => undefined);
      await Promise.all([p2.end(), s2.end()]);
    }
  });

  it('the subscriber receives every change under the original name: through the swap, after it, and after a rollback', async () => {
    let writer: Writer | null = await startWriter(pub.config('app'), 5);
    try {
      for (const args of [['create', '--yes'], ['migrate', '--yes', '--mode', 'all'], ['verify', '--data']]) {
        const r = await runCli([...args, '--publish-via-root', '--json', '--url', url]);
        expect(resultOf(r), `${args[0]}: ${r.stdout.slice(-1500)}`).toMatchObject({ ok: true });
      }
      // without the option the swap refuses: the subscriber would stop for good
      const refused = await runCli(['swap', '--yes', '--json', '--url', url]);
      expect(resultOf(refused)).toMatchObject({ ok: false, exitCode: 3 });
      expect(String(resultOf(refused)?.summary)).toContain('--publish-via-root');
      const swap = await runCli(['swap', '--yes', '--publish-via-root', '--json', '--url', url]);
      expect(resultOf(swap), swap.stdout.slice(-1500)).toMatchObject({ ok: true });
      expect((await publisher.query(`SELECT pubviaroot FROM pg_publication WHERE pubname = 'app_pub'`)).rows[0].pubviaroot).toBe(true);
      // writes go on on the partitioned table
      await waitUntil(async () => Number((await publisher.query(`SELECT count(*) AS n FROM public.petri_observations WHERE petri_code LIKE 'W-%'`)).rows[0].n) > 0, { what: 'writes after the swap' });
      const before = (await writer.stop()).errors;
      expect(before).toEqual([]);
      writer = null;
      await caughtUp();

      writer = await startWriter(pub.config('app'), 5);
      const rollback = await runCli(['rollback', '--yes', '--json', '--url', url]);
      expect(resultOf(rollback), rollback.stdout.slice(-1500)).toMatchObject({ ok: true });
      expect((await publisher.query(`SELECT pubviaroot FROM pg_publication WHERE pubname = 'app_pub'`)).rows[0].pubviaroot).toBe(false);
      expect((await publisher.query(`SELECT relkind FROM pg_class WHERE oid = 'public.petri_observations'::regclass`)).rows[0].relkind).toBe('r');
      expect((await writer.stop()).errors).toEqual([]);
      writer = null;
      // and after the rollback, the plain table again
      await publisher.query(`UPDATE public.petri_observations SET growth_index = 42 WHERE observation_id IN (SELECT observation_id FROM public.petri_observations LIMIT 5)`);
      await caughtUp();
    } finally {
      await writer?.stop();
    }
  });
});
