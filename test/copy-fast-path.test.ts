/**
 * The copy's fast path (src/move/copy.ts, "Speed"): rows older than the capture's install are inserted without ON
 * CONFLICT; newer ones are left to replay (while age() is exact) or inserted with ON CONFLICT by a second statement;
 * a conflict in the fast statement falls back to ON CONFLICT for the whole batch. Each test ends with the target
 * equal to the source, row for row.
 */
import type pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { takeSnapshot } from '../src/catalog/snapshot.js';
import type { Snapshot } from '../src/catalog/types.js';
import { Journal } from '../src/journal/journal.js';
import { captureInstallStatements, captureTriggerStatements, replayBatch } from '../src/move/capture.js';
import { copiedColumns } from '../src/move/captureNames.js';
import { copyBatch, SMOOTH_FLUSH_AFTER, startScope, type BatchPath, type CopyTarget } from '../src/move/copy.js';
import { connect, moveFixture, rowDifferences, type MoveFixture } from './helpers/moveSetup.js';

async function install(f: MoveFixture, snap: Snapshot): Promise<void> {
  await f.client.query('BEGIN');
  for (const s of captureInstallStatements(snap, f.cfg, 'forward')) await f.client.query(s);
  await f.client.query('COMMIT');
}

async function drainAll(f: MoveFixture, snap: Snapshot): Promise<void> {
  while ((await replayBatch(f.client, snap, f.cfg, 'forward', 500)) > 0);
}

/** Copies the whole table in batches of `blocks` heap blocks; the path each batch took. */
async function copyAll(f: MoveFixture, snap: Snapshot, fastPath: boolean | undefined, blocks = 20, alwaysSplit = false): Promise<BatchPath[]> {
  const journal = await Journal.open(f.client, f.cfg);
  const t: CopyTarget = { cfg: f.cfg, migrationId: journal.migrationId, columns: copiedColumns(snap, 'forward'), keyType: 'uuid', fastPath, alwaysSplit };
  const paths: BatchPath[] = [];
  let cp = await startScope(f.client, t, { id: 'all', kind: 'all' });
  while (!cp.done) {
    const r = await copyBatch(f.client, t, { id: 'all', kind: 'all' }, blocks, []);
    if (r.path) paths.push(r.path);
    cp = r.checkpoint;
  }
  return paths;
}

async function expectEqual(f: MoveFixture, snap: Snapshot): Promise<void> {
  await drainAll(f, snap);
  const d = await rowDifferences(f.client);
  expect(d.source).toBeGreaterThan(0);
  expect(d).toEqual({ sourceOnly: 0, newOnly: 0, source: d.source, target: d.source });
}

const touch = (c: pg.Client, limit: number) =>
  c.query(`UPDATE public.petri_observations SET tags = ARRAY['touched'] WHERE observation_id IN (SELECT observation_id FROM public.petri_observations ORDER BY observation_id LIMIT ${limit})`);

describe('the copy inserts old rows without ON CONFLICT and falls back when it must', () => {
  let f: MoveFixture | undefined;
  afterEach(async () => {
    await f?.close();
    f = undefined;
  });

  it('rows written after the install and replayed before their batch take the ON CONFLICT statement: no batch falls back', async () => {
    f = await moveFixture('fast_after', { rows: 4000, programs: 4 });
    const snap = await takeSnapshot(f.client, f.cfg);
    await install(f, snap);
    // written through the trigger, then replayed into the target: these keys are there before any batch
    await touch(f.client, 200);
    await drainAll(f, snap);
    expect(Number((await f.client.query(`SELECT count(*) AS n FROM public.petri_observations_partitioned`)).rows[0].n)).toBe(200);
    const paths = await copyAll(f, snap, true, 20, true);
    expect(paths.length).toBeGreaterThan(1);
    // the horizon is the install's own xid: a horizon read any later would put these rows on the fast path, which conflicts
    expect(paths.every((p) => p === 'split')).toBe(true);
    await expectEqual(f, snap);
  });

  it('rows written after the install are left to replay: the batches copy the older rows only, replay the rest', async () => {
    f = await moveFixture('fast_replay', { rows: 4000, programs: 4 });
    const snap = await takeSnapshot(f.client, f.cfg);
    await install(f, snap);
    await touch(f.client, 150); // new versions, newer than the install, their keys in the log
    const source = Number((await f.client.query(`SELECT count(*) AS n FROM public.petri_observations WHERE program_id IS NOT NULL`)).rows[0].n);
    const paths = await copyAll(f, snap, true);
    expect(paths.length).toBeGreaterThan(1);
    expect(paths.every((p) => p === 'old-only')).toBe(true);
    const touched = await f.client.query(`SELECT count(*)::int AS n FROM public.petri_observations WHERE tags = ARRAY['touched'] AND program_id IS NOT NULL`);
    const copied = Number((await f.client.query(`SELECT count(*) AS n FROM public.petri_observations_partitioned`)).rows[0].n);
    expect(copied).toBe(source - touched.rows[0].n);
    await expectEqual(f, snap);
  });

  it('the same rows with the second statement instead: copied by the batches, replay finds them there', async () => {
    f = await moveFixture('fast_split', { rows: 4000, programs: 4 });
    const snap = await takeSnapshot(f.client, f.cfg);
    await install(f, snap);
    await touch(f.client, 150);
    const source = Number((await f.client.query(`SELECT count(*) AS n FROM public.petri_observations WHERE program_id IS NOT NULL`)).rows[0].n);
    const paths = await copyAll(f, snap, true, 20, true);
    expect(paths.every((p) => p === 'split')).toBe(true);
    expect(Number((await f.client.query(`SELECT count(*) AS n FROM public.petri_observations_partitioned`)).rows[0].n)).toBe(source);
    await expectEqual(f, snap);
  });

  it('a rewriting ALTER TABLE after the install (new xmin everywhere, nothing logged) turns the skip off: every row is copied', async () => {
    f = await moveFixture('fast_rewrite', { rows: 3000, programs: 3 });
    const snap = await takeSnapshot(f.client, f.cfg);
    await install(f, snap);
    await f.client.query(`ALTER TABLE public.petri_observations ALTER COLUMN "daysInThisProgramPhase" TYPE bigint`);
    const logged = Number((await f.client.query(`SELECT count(*) AS n FROM partwise."capture_log_forward_public_petri_observations"`)).rows[0].n);
    expect(logged).toBe(0);
    const paths = await copyAll(f, snap, true);
    expect(paths.every((p) => p === 'split')).toBe(true);
    await expectEqual(f, snap);
  });

  it('writers with session_replication_role = replica are logged (ENABLE ALWAYS); a disabled trigger turns the skip off', async () => {
    f = await moveFixture('fast_replica', { rows: 2000, programs: 3 });
    const snap = await takeSnapshot(f.client, f.cfg);
    await install(f, snap);
    const replica = await connect(f.db.config);
    try {
      await replica.query(`SET session_replication_role = replica`);
      await replica.query(`UPDATE public.petri_observations SET tags = ARRAY['replica'] WHERE observation_id IN (SELECT observation_id FROM public.petri_observations ORDER BY observation_id LIMIT 40)`);
    } finally {
      await replica.end();
    }
    const logged = Number((await f.client.query(`SELECT count(*) AS n FROM partwise."capture_log_forward_public_petri_observations"`)).rows[0].n);
    expect(logged).toBe(40);
    await f.client.query(`ALTER TABLE public.petri_observations DISABLE TRIGGER "partwise_capture_forward"`);
    const paths = await copyAll(f, snap, true);
    expect(paths.every((p) => p === 'split')).toBe(true);
    await expectEqual(f, snap);
  });

  it('the install locks the table before anything gives its transaction an xid', async () => {
    f = await moveFixture('fast_lock_first', { rows: 500, programs: 2 });
    const snap = await takeSnapshot(f.client, f.cfg);
    const writer = await connect(f.db.config);
    try {
      for (const statements of [captureInstallStatements(snap, f.cfg, 'forward'), captureTriggerStatements(f.cfg, 'forward')]) {
        await f.client.query('BEGIN');
        await f.client.query(statements[0]!);
        // no xid yet, and the application's writes already wait: a transaction that gets its xid after the install's
        // cannot have written the table before the triggers exist
        expect((await f.client.query(`SELECT pg_current_xact_id_if_assigned() AS x`)).rows[0].x).toBeNull();
        await writer.query(`SET lock_timeout = '200ms'`);
        await expect(writer.query(`UPDATE public.petri_observations SET tags = tags WHERE observation_id IN (SELECT observation_id FROM public.petri_observations LIMIT 1)`)).rejects.toThrow(/lock timeout/);
        for (const s of statements.slice(1)) await f.client.query(s);
        await f.client.query('COMMIT');
      }
    } finally {
      await writer.end();
    }
  });

  it('a transaction with an xid from before the install that writes after it makes its batch fall back, and nothing is lost', async () => {
    f = await moveFixture('fast_fallback', { rows: 4000, programs: 4 });
    const snap = await takeSnapshot(f.client, f.cfg);
    const early = await connect(f.db.config);
    try {
      await early.query('BEGIN');
      await early.query('SELECT txid_current()'); // its xid now, before the install
      await install(f, snap);
      await touch(early, 50); // through the trigger (installed and committed), with an xid older than the install
      await early.query('COMMIT');
    } finally {
      await early.end();
    }
    await drainAll(f, snap);
    const paths = await copyAll(f, snap, true);
    expect(paths).toContain('fallback');
    await expectEqual(f, snap);
  });

  it('frozen rows (raw xmin kept) are copied by the fast statement, none skipped', async () => {
    f = await moveFixture('fast_frozen', { rows: 4000, programs: 4 });
    await f.client.query('VACUUM (FREEZE) public.petri_observations');
    const frozen = await f.client.query(`SELECT count(*)::int AS n FROM public.petri_observations WHERE age(xmin) = 2147483647`);
    // age() of a frozen tuple's xmin column is its raw xmin's age, not "frozen": the split sees an old row
    expect(frozen.rows[0].n).toBe(0);
    const snap = await takeSnapshot(f.client, f.cfg);
    await install(f, snap);
    const paths = await copyAll(f, snap, true);
    expect(paths.every((p) => p === 'old-only')).toBe(true);
    await expectEqual(f, snap);
  });

  it('smoothed writes (under a rate limit) are set for the batch\'s own transaction only', async () => {
    f = await moveFixture('fast_smooth', { rows: 2000, programs: 3 });
    const snap = await takeSnapshot(f.client, f.cfg);
    await install(f, snap);
    const before = (await f.client.query(`SELECT current_setting('backend_flush_after') AS v`)).rows[0].v;
    expect(before).not.toBe(SMOOTH_FLUSH_AFTER);
    const journal = await Journal.open(f.client, f.cfg);
    const t: CopyTarget = { cfg: f.cfg, migrationId: journal.migrationId, columns: copiedColumns(snap, 'forward'), keyType: 'uuid', fastPath: true };
    let cp = await startScope(f.client, t, { id: 'all', kind: 'all' });
    while (!cp.done) cp = (await copyBatch(f.client, t, { id: 'all', kind: 'all' }, 10, [], { smoothWrites: true })).checkpoint;
    // replay and every later statement of the session write as the server is configured
    expect((await f.client.query(`SELECT current_setting('backend_flush_after') AS v`)).rows[0].v).toBe(before);
    await expectEqual(f, snap);
  });

  it('without the fast path every batch uses ON CONFLICT DO NOTHING, with the same result', async () => {
    f = await moveFixture('fast_off', { rows: 3000, programs: 3 });
    const snap = await takeSnapshot(f.client, f.cfg);
    await install(f, snap);
    await touch(f.client, 100);
    await drainAll(f, snap);
    const paths = await copyAll(f, snap, undefined);
    expect(new Set(paths)).toEqual(new Set(['on-conflict']));
    await expectEqual(f, snap);
  });
});
