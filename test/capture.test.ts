/**
 * Change capture on a real server: what the trigger logs, that replay makes the target equal the source for
 * inserts, updates (also key-changing ones), deletes and TRUNCATE, that the application's roles keep writing when
 * partwise's session is gone, and that removal leaves nothing behind.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { takeSnapshot } from '../src/catalog/snapshot.js';
import type { Snapshot } from '../src/catalog/types.js';
import { resolveConfig } from '../src/config/config.js';
import {
  captureBacklog, captureInstalled, captureInstallStatements, captureIntegrity, captureNames, captureRemovalStatements, replayBatch, ReplayBlocked, replayInTransaction,
} from '../src/move/capture.js';
import { copyBatch, keyScope, startScope, type CopyTarget } from '../src/move/copy.js';
import { copiedColumns } from '../src/move/captureNames.js';
import { Journal } from '../src/journal/journal.js';
import { connect, moveFixture, rowDifferences, type MoveFixture } from './helpers/moveSetup.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';

async function install(client: pg.Client, snap: Snapshot, cfg: ReturnType<typeof resolveConfig>) {
  await Journal.open(client, cfg); // capture records its install there
  await client.query('BEGIN');
  for (const s of captureInstallStatements(snap, cfg, 'forward')) await client.query(s);
  await client.query('COMMIT');
}

async function drainAll(client: pg.Client, snap: Snapshot, cfg: ReturnType<typeof resolveConfig>) {
  while ((await replayBatch(client, snap, cfg, 'forward', 500)) > 0);
}

describe('change capture on the demo table', () => {
  let f: MoveFixture;
  let snap: Snapshot;

  beforeAll(async () => {
    f = await moveFixture('capture', { rows: 3000, programs: 4 });
    snap = await takeSnapshot(f.client, f.cfg);
    await install(f.client, snap, f.cfg);
  });
  afterAll(async () => f?.close());

  it('installs row and truncate triggers with a SECURITY DEFINER function and a fixed search_path', async () => {
    expect(await captureInstalled(f.client, f.cfg, 'forward')).toBe(true);
    const n = captureNames(f.cfg, 'forward');
    const fn = await f.client.query(`SELECT prosecdef, proconfig FROM pg_proc WHERE oid = to_regprocedure($1)`, [`${n.fnQ}()`]);
    expect(fn.rows[0].prosecdef).toBe(true);
    expect(fn.rows[0].proconfig).toContain('search_path=pg_catalog, pg_temp');
    const trg = await f.client.query(`SELECT tgname FROM pg_trigger WHERE tgrelid = 'public.petri_observations'::regclass AND NOT tgisinternal ORDER BY 1`);
    expect(trg.rows.map((r) => r.tgname)).toEqual(['partwise_capture_forward', 'partwise_capture_forward_truncate']);
    // idempotent: installing again keeps one trigger of each
    await install(f.client, snap, f.cfg);
    const again = await f.client.query(`SELECT count(*)::int AS n FROM pg_trigger WHERE tgrelid = 'public.petri_observations'::regclass AND NOT tgisinternal`);
    expect(again.rows[0].n).toBe(2);
  });

  it('logs the old and the new key of a key-changing update, one key for others', async () => {
    const before = await captureBacklog(f.client, f.cfg, 'forward');
    const id = (await f.client.query(`SELECT observation_id FROM public.petri_observations LIMIT 1`)).rows[0].observation_id;
    await f.client.query(`UPDATE public.petri_observations SET growth_index = 1 WHERE observation_id = $1`, [id]);
    expect(await captureBacklog(f.client, f.cfg, 'forward')).toBe(before + 1);
    await f.client.query(`UPDATE public.petri_observations SET observation_id = gen_random_uuid() WHERE observation_id = $1`, [id]);
    expect(await captureBacklog(f.client, f.cfg, 'forward')).toBe(before + 3);
  });

  it('replay makes the target equal the source after inserts, updates, key moves and deletes', async () => {
    // copy everything once, then change rows behind the copy's back
    const journal = await Journal.open(f.client, f.cfg);
    const t: CopyTarget = { cfg: f.cfg, migrationId: journal.migrationId, columns: copiedColumns(snap, 'forward'), keyType: 'uuid' };
    const programs = snap.lookupRows.map((r) => r.key);
    let cp = await startScope(f.client, t, { id: 'all', kind: 'all' });
    while (!cp.done) cp = (await copyBatch(f.client, t, { id: 'all', kind: 'all' }, 10, [])).checkpoint;
    await f.client.query(`DELETE FROM public.petri_observations WHERE observation_id IN (SELECT observation_id FROM public.petri_observations ORDER BY observation_id LIMIT 20)`);
    await f.client.query(`UPDATE public.petri_observations SET program_id = $1 WHERE observation_id IN (SELECT observation_id FROM public.petri_observations WHERE program_id <> $1 ORDER BY observation_id LIMIT 30)`, [programs[1]]);
    await f.client.query(`UPDATE public.petri_observations SET "daysInThisProgramPhase" = 99, tags = ARRAY['changed'] WHERE observation_id IN (SELECT observation_id FROM public.petri_observations ORDER BY observation_id DESC LIMIT 30)`);
    await f.client.query(`INSERT INTO public.petri_observations (program_id, petri_code) SELECT $1, 'new-' || g FROM generate_series(1, 25) g`, [programs[2]]);
    expect((await rowDifferences(f.client)).sourceOnly).toBeGreaterThan(0);
    await drainAll(f.client, snap, f.cfg);
    expect(await captureBacklog(f.client, f.cfg, 'forward')).toBe(0);
    const d = await rowDifferences(f.client);
    expect(d).toEqual({ sourceOnly: 0, newOnly: 0, source: d.source, target: d.source });
    // the moved rows are in their new program's partition, not twice
    const dup = await f.client.query(`SELECT count(*)::int AS n FROM (SELECT observation_id FROM public.petri_observations_partitioned GROUP BY 1 HAVING count(*) > 1) x`);
    expect(dup.rows[0].n).toBe(0);
  });

  it('a stale copy of a row deleted while its batch was in flight is not resurrected', async () => {
    const id = (await f.client.query(`SELECT observation_id FROM public.petri_observations ORDER BY observation_id LIMIT 1`)).rows[0].observation_id;
    await drainAll(f.client, snap, f.cfg);
    // what a batch that read the row before the delete would have written
    await f.client.query(`DELETE FROM public.petri_observations_partitioned WHERE observation_id = $1`, [id]);
    await f.client.query(`INSERT INTO public.petri_observations_partitioned (observation_id, program_id, petri_code, observed_at, seq_no, legacy_no)
                            OVERRIDING SYSTEM VALUE SELECT observation_id, program_id, petri_code, observed_at, seq_no, legacy_no FROM public.petri_observations WHERE observation_id = $1`, [id]);
    await f.client.query(`DELETE FROM public.petri_observations WHERE observation_id = $1`, [id]);
    await drainAll(f.client, snap, f.cfg);
    const left = await f.client.query(`SELECT count(*)::int AS n FROM public.petri_observations_partitioned WHERE observation_id = $1`, [id]);
    expect(left.rows[0].n).toBe(0);
  });

  it('the application role keeps writing through the trigger after partwise\'s session is gone', async () => {
    // as on Supabase, the API role may use the table's sequences; it has no right at all on schema partwise
    await f.client.query(`GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO service_role`);
    const app = await connect(f.db.config);
    // partwise's own session ends: capture must not depend on it
    const partwise = await connect(f.db.config);
    await partwise.end();
    await app.query('SET ROLE service_role');
    const program = snap.lookupRows[0]!.key;
    await app.query(`INSERT INTO public.petri_observations (program_id, petri_code) VALUES ($1, 'api-write')`, [program]);
    await app.query(`UPDATE public.petri_observations SET petri_code = 'api-update' WHERE petri_code = 'api-write'`);
    await app.query(`DELETE FROM public.petri_observations WHERE petri_code = 'api-update'`);
    await app.end();
    expect(await captureBacklog(f.client, f.cfg, 'forward')).toBeGreaterThanOrEqual(3);
    await drainAll(f.client, snap, f.cfg);
    expect((await rowDifferences(f.client)).sourceOnly).toBe(0);
  });

  it('TRUNCATE of the source is reflected and restarts the copy checkpoints', async () => {
    const journal = await Journal.open(f.client, f.cfg);
    const t: CopyTarget = { cfg: f.cfg, migrationId: journal.migrationId, columns: copiedColumns(snap, 'forward'), keyType: 'uuid' };
    await startScope(f.client, t, keyScope(snap.lookupRows[0]!.key));
    await f.client.query(`TRUNCATE public.petri_observations`);
    await f.client.query(`INSERT INTO public.petri_observations (program_id, petri_code) SELECT $1, 'after-truncate-' || g FROM generate_series(1, 7) g`, [snap.lookupRows[0]!.key]);
    await drainAll(f.client, snap, f.cfg);
    const d = await rowDifferences(f.client);
    expect(d).toEqual({ sourceOnly: 0, newOnly: 0, source: 7, target: 7 });
    // the checkpoints stay, restarted: the next batch of a running copy starts its scope over (never finds it missing)
    const cps = await f.client.query(`SELECT filenode::int8 AS filenode, next_block, done FROM partwise.copy_checkpoint WHERE migration_id = $1`, [journal.migrationId]);
    expect(cps.rows.length).toBeGreaterThan(0);
    for (const row of cps.rows) expect(row).toEqual({ filenode: '0', next_block: '0', done: false });
  });

  it('replayInTransaction applies at most the limit inside the caller\'s transaction', async () => {
    await f.client.query(`INSERT INTO public.petri_observations (program_id, petri_code) SELECT $1, 'lim-' || g FROM generate_series(1, 5) g`, [snap.lookupRows[1]!.key]);
    await f.client.query('BEGIN');
    expect(await replayInTransaction(f.client, snap, f.cfg, 'forward', 2)).toBe(2);
    await f.client.query('ROLLBACK');
    expect(await captureBacklog(f.client, f.cfg, 'forward')).toBe(5);
    await f.client.query('BEGIN');
    expect(await replayInTransaction(f.client, snap, f.cfg, 'forward')).toBe(5);
    await f.client.query('COMMIT');
    expect(await captureBacklog(f.client, f.cfg, 'forward')).toBe(0);
  });

  it('a captured row whose key no partition accepts (and no default partition) stops the replay, named, and stays in the log', async () => {
    await f.client.query(`ALTER TABLE public.petri_observations_partitioned DETACH PARTITION public.petri_obs_default`);
    try {
      const key = (await f.client.query(`SELECT gen_random_uuid()::text AS k`)).rows[0].k as string;
      await f.client.query(`INSERT INTO public.petri_observations (program_id, petri_code) VALUES ($1, 'nowhere')`, [key]);
      const stopped = await replayBatch(f.client, snap, f.cfg, 'forward', 500).catch((e) => e);
      expect(stopped).toBeInstanceOf(ReplayBlocked);
      expect(stopped.message).toMatch(/no partition of petri_observations_partitioned accepts, and there is no default partition/);
      expect(stopped.message).toContain(key);
      expect(await captureBacklog(f.client, f.cfg, 'forward')).toBe(1);
    } finally {
      await f.client.query(`ALTER TABLE public.petri_observations_partitioned ATTACH PARTITION public.petri_obs_default DEFAULT`);
    }
    await drainAll(f.client, snap, f.cfg);
    expect(await captureBacklog(f.client, f.cfg, 'forward')).toBe(0);
  });

  it('removal drops triggers, function and log, and is idempotent', async () => {
    for (let i = 0; i < 2; i++) {
      await f.client.query('BEGIN');
      for (const s of captureRemovalStatements(f.cfg, 'forward')) await f.client.query(s);
      await f.client.query('COMMIT');
    }
    expect(await captureInstalled(f.client, f.cfg, 'forward')).toBe(false);
    const n = captureNames(f.cfg, 'forward');
    const left = await f.client.query(`SELECT to_regclass($1) AS log, to_regprocedure($2) AS fn`, [n.logQ, `${n.fnQ}()`]);
    expect(left.rows[0]).toEqual({ log: null, fn: null });
    await f.client.query(`INSERT INTO public.petri_observations (program_id, petri_code) VALUES ($1, 'after-removal')`, [snap.lookupRows[0]!.key]);
  });
});

describe('change capture with hostile names and a composite, mixed-case key', () => {
  let db: TestDatabase;
  let client: pg.Client;
  const cfg = resolveConfig({ schema: 'Odd "Schema"', table: 'Obs;Table', key: 'Prog Id', lookup: 'Progs', lookupKey: 'Prog Id', lookupLabel: 'Label' });

  beforeAll(async () => {
    db = await createTestDatabase('capture_odd');
    client = await connect(db.config);
    await client.query(`CREATE SCHEMA "Odd ""Schema"""`);
    await client.query(`CREATE TABLE "Odd ""Schema"""."Progs" ("Prog Id" text PRIMARY KEY, "Label" text)`);
    await client.query(`INSERT INTO "Odd ""Schema"""."Progs" VALUES ('a''b', 'A; drop'), ('c', 'C')`);
    await client.query(`CREATE TABLE "Odd ""Schema"""."Obs;Table" ("Site" text, "rowNo" int, "Prog Id" text, v int GENERATED ALWAYS AS IDENTITY, w int GENERATED ALWAYS AS ("rowNo" * 2) STORED, PRIMARY KEY ("Site", "rowNo"))`);
    await client.query(`INSERT INTO "Odd ""Schema"""."Obs;Table" ("Site", "rowNo", "Prog Id") SELECT 's' || (g % 3), g, CASE WHEN g % 2 = 0 THEN 'a''b' ELSE 'c' END FROM generate_series(1, 200) g`);
    await client.query(`CREATE TABLE "Odd ""Schema"""."Obs;Table_partitioned" ("Site" text, "rowNo" int, "Prog Id" text, v int GENERATED ALWAYS AS IDENTITY, w int GENERATED ALWAYS AS ("rowNo" * 2) STORED, PRIMARY KEY ("Site", "rowNo", "Prog Id")) PARTITION BY LIST ("Prog Id")`);
    await client.query(`CREATE TABLE "Odd ""Schema"""."p1" PARTITION OF "Odd ""Schema"""."Obs;Table_partitioned" DEFAULT`);
  });
  afterAll(async () => {
    await client?.end().catch(() => undefined);
    await db?.drop();
  });

  it('captures and replays by the composite key, copying identity values and leaving generated columns out', async () => {
    const snap = await takeSnapshot(client, cfg);
    await install(client, snap, cfg);
    await client.query(`UPDATE "Odd ""Schema"""."Obs;Table" SET "rowNo" = "rowNo" + 1000, "Prog Id" = 'c' WHERE "rowNo" <= 10`);
    await client.query(`DELETE FROM "Odd ""Schema"""."Obs;Table" WHERE "rowNo" BETWEEN 11 AND 15`);
    await client.query(`INSERT INTO "Odd ""Schema"""."Obs;Table" ("Site", "rowNo", "Prog Id") VALUES ('x', 5000, 'a''b')`);
    await client.query('BEGIN');
    const applied = await replayInTransaction(client, snap, cfg, 'forward');
    await client.query('COMMIT');
    expect(applied).toBe(10 * 2 + 5 + 1);
    const rows = await client.query(`SELECT count(*)::int AS n FROM (
        (SELECT "Site", "rowNo", "Prog Id", v, w FROM "Odd ""Schema"""."Obs;Table" WHERE "rowNo" > 1000 OR "rowNo" = 5000
         EXCEPT SELECT "Site", "rowNo", "Prog Id", v, w FROM "Odd ""Schema"""."Obs;Table_partitioned")
        UNION ALL (SELECT "Site", "rowNo", "Prog Id", v, w FROM "Odd ""Schema"""."Obs;Table_partitioned"
         EXCEPT SELECT "Site", "rowNo", "Prog Id", v, w FROM "Odd ""Schema"""."Obs;Table")) x`);
    expect(rows.rows[0].n).toBe(0);
    const total = await client.query(`SELECT count(*)::int AS n FROM "Odd ""Schema"""."Obs;Table_partitioned"`);
    expect(total.rows[0].n).toBe(11);
  });

  it('a disable/enable round trip of the capture triggers is caught by their catalog row version; a no-op ENABLE ALWAYS is not', async () => {
    const t = `"Odd ""Schema"""."Obs;Table"`;
    // installed by the previous test, in the transaction that recorded the row versions
    expect(await captureIntegrity(client, cfg, 'forward')).toEqual([]);
    // the state it already has: PostgreSQL leaves the row alone
    await client.query(`ALTER TABLE ${t} ENABLE ALWAYS TRIGGER partwise_capture_forward`);
    expect(await captureIntegrity(client, cfg, 'forward')).toEqual([]);
    await client.query(`ALTER TABLE ${t} DISABLE TRIGGER ALL`);
    const off = await captureIntegrity(client, cfg, 'forward');
    expect(off).toHaveLength(2);
    expect(off.join('\n')).toMatch(/partwise_capture_forward .* is disabled/);
    // back to exactly the installed state: the rows were rewritten meanwhile, and that is what the check sees
    await client.query(`ALTER TABLE ${t} ENABLE ALWAYS TRIGGER partwise_capture_forward`);
    await client.query(`ALTER TABLE ${t} ENABLE ALWAYS TRIGGER partwise_capture_forward_truncate`);
    const states = await client.query(`SELECT DISTINCT tgenabled::text AS e FROM pg_trigger WHERE tgrelid = $1::regclass AND tgname LIKE 'partwise_capture%'`, [t]);
    expect(states.rows).toEqual([{ e: 'A' }]);
    const toggled = await captureIntegrity(client, cfg, 'forward');
    expect(toggled).toHaveLength(2);
    expect(toggled.join('\n')).toMatch(/partwise_capture_forward on .* was altered after capture was installed/);
    // a re-install records the new versions
    await install(client, await takeSnapshot(client, cfg), cfg);
    expect(await captureIntegrity(client, cfg, 'forward')).toEqual([]);
  });
});
