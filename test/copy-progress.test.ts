/**
 * How the copy counts rows per program for its progress (ProgressCount in src/move/copy.ts): per partition from the
 * transaction's own statistics, by the statement's row count for a one-program scope, and with RETURNING only when a
 * partition mixes programs. Each test compares the counts with the rows the copy actually put in the new table.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { takeSnapshot } from '../src/catalog/snapshot.js';
import type { Snapshot } from '../src/catalog/types.js';
import { readCopyBase, readCopyProgress } from '../src/state/copyProgress.js';
import { Journal } from '../src/journal/journal.js';
import { captureInstallStatements, replayBatch } from '../src/move/capture.js';
import { copiedColumns } from '../src/move/captureNames.js';
import { copyBatch, keyScope, startScope, type BatchPath, type CopyTarget, type ProgressCount, type Scope } from '../src/move/copy.js';
import { countByKey, partitionPrograms, programList, REST_PROGRAM, restMarkerFree } from '../src/move/programs.js';
import { runMigrate } from '../src/steps/migrate.js';
import { connect, moveFixture, type MoveFixture } from './helpers/moveSetup.js';

let f: MoveFixture | undefined;
afterEach(async () => {
  await f?.close();
  f = undefined;
});

async function install(fx: MoveFixture, snap: Snapshot): Promise<void> {
  await fx.client.query('BEGIN');
  for (const s of captureInstallStatements(snap, fx.cfg, 'forward')) await fx.client.query(s);
  await fx.client.query('COMMIT');
}

/** Rows of the new table per program: a lookup key's own, every other key under REST_PROGRAM. */
async function targetByProgram(fx: MoveFixture, snap: Snapshot): Promise<Map<string, number>> {
  const lookup = new Set(snap.lookupRows.map((r) => r.key));
  const r = await fx.client.query<{ k: string; n: string }>(`SELECT program_id::text AS k, count(*) AS n FROM public.petri_observations_partitioned GROUP BY 1`);
  const out = new Map<string, number>();
  for (const x of r.rows) {
    const p = lookup.has(x.k) ? x.k : REST_PROGRAM;
    out.set(p, (out.get(p) ?? 0) + Number(x.n));
  }
  return out;
}

/** A lookup row without its partition: inserted with triggers off, as when the auto-partition trigger failed. */
async function addProgramWithoutPartition(fx: MoveFixture): Promise<string> {
  await fx.client.query('BEGIN');
  await fx.client.query(`SELECT set_config('session_replication_role', 'replica', true)`);
  const id = (await fx.client.query<{ id: string }>(`INSERT INTO public.pilot_programs (name) VALUES ('added later') RETURNING program_id::text AS id`)).rows[0]!.id;
  await fx.client.query('COMMIT');
  return id;
}

function minus(a: Map<string, number>, b: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, n] of a) if (n - (b.get(k) ?? 0) !== 0) out.set(k, n - (b.get(k) ?? 0));
  return out;
}

/** Copies a scope to its end; the counts the batches reported, summed, and the paths they took. */
async function copyScope(fx: MoveFixture, snap: Snapshot, scope: Scope, count: ProgressCount, exclude: string[] = []) {
  const journal = await Journal.open(fx.client, fx.cfg);
  const t: CopyTarget = { cfg: fx.cfg, migrationId: journal.migrationId, columns: copiedColumns(snap, 'forward'), keyType: 'uuid', fastPath: true };
  const counted = new Map<string, number>();
  const paths: BatchPath[] = [];
  let copied = 0;
  let cp = await startScope(fx.client, t, scope);
  while (!cp.done) {
    const r = await copyBatch(fx.client, t, scope, 15, exclude, { count });
    for (const [k, n] of r.copiedByProgram) counted.set(k, (counted.get(k) ?? 0) + n);
    copied += r.copied;
    if (r.path) paths.push(r.path);
    cp = r.checkpoint;
  }
  return { counted, paths, copied, migrationId: journal.migrationId };
}

describe('per-program progress of the copy', () => {
  it('counts per partition from the transaction statistics: equal to the rows each program got, the rest as one', async () => {
    f = await moveFixture('progress_partition', { rows: 3000, programs: 4 });
    const snap = await takeSnapshot(f.client, f.cfg);
    await install(f, snap);
    const programOf = partitionPrograms(snap, 'uuid', (await countByKey(f.client, f.cfg)).keys());
    expect(programOf).not.toBeNull();
    expect(programOf!.size).toBe(5); // four programs and the default partition
    const r = await copyScope(f, snap, { id: 'all', kind: 'all' }, { by: 'partition', programOf: programOf! });
    const expected = await targetByProgram(f, snap);
    expect(expected.get(REST_PROGRAM)).toBeGreaterThan(0); // the demo has keys without a lookup row
    expect(r.counted).toEqual(expected);
    expect(r.copied).toBe([...expected.values()].reduce((a, b) => a + b, 0));
    const stored = await f.client.query<{ program: string; copied: string }>(`SELECT program, copied FROM partwise.copy_progress WHERE migration_id = $1`, [r.migrationId]);
    expect(new Map(stored.rows.map((x) => [x.program, Number(x.copied)]))).toEqual(expected);
  });

  it('a batch that falls back counts only what its ON CONFLICT statement inserted, not the rolled-back attempt', async () => {
    f = await moveFixture('progress_fallback', { rows: 3000, programs: 4 });
    const snap = await takeSnapshot(f.client, f.cfg);
    const early = await connect(f.db.config);
    try {
      await early.query('BEGIN');
      await early.query('SELECT txid_current()');
      await install(f, snap);
      await early.query(`UPDATE public.petri_observations SET tags = ARRAY['early'] WHERE observation_id IN (SELECT observation_id FROM public.petri_observations ORDER BY observation_id LIMIT 60)`);
      await early.query('COMMIT');
    } finally {
      await early.end();
    }
    while ((await replayBatch(f.client, snap, f.cfg, 'forward', 500)) > 0);
    const before = await targetByProgram(f, snap);
    const programOf = partitionPrograms(snap, 'uuid', (await countByKey(f.client, f.cfg)).keys())!;
    const r = await copyScope(f, snap, { id: 'all', kind: 'all' }, { by: 'partition', programOf });
    expect(r.paths).toContain('fallback');
    expect(r.counted).toEqual(minus(await targetByProgram(f, snap), before));
  });

  it('a one-program scope counts by the statement row count; a lookup program without a partition makes the copy use RETURNING', async () => {
    f = await moveFixture('progress_scope', { rows: 3000, programs: 4 });
    let snap = await takeSnapshot(f.client, f.cfg);
    await install(f, snap);
    const key = snap.lookupRows[0]!.key;
    const one = await copyScope(f, snap, keyScope(key), { by: 'scope', program: key });
    const afterOne = await targetByProgram(f, snap);
    expect(one.counted).toEqual(new Map([[key, afterOne.get(key)]]));
    const rest = await copyScope(f, snap, { id: 'rest', kind: 'rest' }, { by: 'scope', program: REST_PROGRAM }, snap.lookupRows.map((x) => x.key));
    expect(rest.counted).toEqual(new Map([[REST_PROGRAM, (await targetByProgram(f, snap)).get(REST_PROGRAM)]]));

    // a program added after create whose partition could not be made (create's auto-partition trigger skipped
    // here): its rows land in the default partition beside the rest's
    await addProgramWithoutPartition(f);
    snap = await takeSnapshot(f.client, f.cfg);
    expect(partitionPrograms(snap, 'uuid', [])).toBeNull();
  });

  it('migrate --mode all: copy_progress gives every program its total, read back by migrate and by watch (rest included)', async () => {
    f = await moveFixture('progress_migrate', { rows: 3000, programs: 4 });
    const r = await runMigrate(f.ctx(), { mode: 'all', batchSize: 300 });
    expect(r.ok).toBe(true);
    const snap = await takeSnapshot(f.client, f.cfg);
    const totals = await countByKey(f.client, f.cfg);
    const journal = await Journal.find(f.client, f.cfg);
    const stored = await f.client.query<{ program: string; copied: string }>(`SELECT program, copied FROM partwise.copy_progress WHERE migration_id = $1`, [journal!.migrationId]);
    const copied = new Map(stored.rows.map((x) => [x.program, Number(x.copied)]));
    // the batches counted per partition (the rest as one row); the run's end records exact totals per key instead
    expect(copied.has(REST_PROGRAM)).toBe(false);
    for (const [k, n] of totals) expect(copied.get(k)).toBe(n);
    const restEvents = f.events.filter((e) => e.type === 'progress' && e.program === REST_PROGRAM && e.state === 'copying');
    expect(restEvents.length).toBeGreaterThan(0);
    const list = programList(snap, f.cfg, totals, copied);
    expect(list.length).toBe(5);
    for (const p of list) expect(p.copied).toBe(p.total);
    const watched = await readCopyProgress(f.client, f.cfg, await readCopyBase(f.client, f.cfg));
    expect(watched!.programs.every((p) => p.state === 'done' && p.copied === p.total)).toBe(true);
  });

  it('a program without its partition is counted with RETURNING by migrate, exactly', async () => {
    f = await moveFixture('progress_returning', { rows: 3000, programs: 4 });
    const added = await addProgramWithoutPartition(f);
    await f.client.query(`UPDATE public.petri_observations SET program_id = $1 WHERE observation_id IN (SELECT observation_id FROM public.petri_observations ORDER BY observation_id LIMIT 77)`, [added]);
    const r = await runMigrate(f.ctx(), { mode: 'all', batchSize: 300 });
    expect(r.ok).toBe(true);
    const journal = await Journal.find(f.client, f.cfg);
    const stored = await f.client.query<{ program: string; copied: string }>(`SELECT program, copied FROM partwise.copy_progress WHERE migration_id = $1`, [journal!.migrationId]);
    const copied = new Map(stored.rows.map((x) => [x.program, Number(x.copied)]));
    expect(copied.get(added)).toBe(77);
    expect(copied.has(REST_PROGRAM)).toBe(false); // per key
    const list = programList(await takeSnapshot(f.client, f.cfg), f.cfg, await countByKey(f.client, f.cfg), copied);
    for (const p of list) expect(p.copied).toBe(p.total);
  });

  it('rows written after the install reach the new table by replay: migrate still records every program done for watch', async () => {
    f = await moveFixture('progress_replayed', { rows: 3000, programs: 4 });
    await install(f, await takeSnapshot(f.client, f.cfg));
    // newer than the install: the batches leave them to replay, which counts nothing
    await f.client.query(`UPDATE public.petri_observations SET tags = ARRAY['later'] WHERE observation_id IN (SELECT observation_id FROM public.petri_observations ORDER BY observation_id LIMIT 300)`);
    const r = await runMigrate(f.ctx(), { mode: 'all', batchSize: 300 });
    expect(r.ok).toBe(true);
    const watched = await readCopyProgress(f.client, f.cfg, await readCopyBase(f.client, f.cfg));
    for (const p of watched!.programs) expect({ program: p.program, state: p.state, copied: p.copied }).toEqual({ program: p.program, state: 'done', copied: p.total });
  });

  it('a partition attached after the map was made: the batch reports the mismatch instead of wrong counts', async () => {
    f = await moveFixture('progress_mismatch', { rows: 2000, programs: 3 });
    const snap = await takeSnapshot(f.client, f.cfg);
    await install(f, snap);
    const programOf = partitionPrograms(snap, 'uuid', (await countByKey(f.client, f.cfg)).keys())!;
    // a new program gets its partition at once (create's auto-partition trigger); rows move to it
    const added = (await f.client.query<{ id: string }>(`INSERT INTO public.pilot_programs (name) VALUES ('attached later') RETURNING program_id::text AS id`)).rows[0]!.id;
    expect((await f.client.query(`SELECT count(*)::int AS n FROM pg_inherits WHERE inhparent = 'public.petri_observations_partitioned'::regclass`)).rows[0].n).toBe(programOf.size + 1);
    await f.client.query(`UPDATE public.petri_observations SET program_id = $1 WHERE observation_id IN (SELECT observation_id FROM public.petri_observations ORDER BY observation_id LIMIT 50)`, [added]);
    const journal = await Journal.open(f.client, f.cfg);
    const t: CopyTarget = { cfg: f.cfg, migrationId: journal.migrationId, columns: copiedColumns(snap, 'forward'), keyType: 'uuid', fastPath: true, alwaysSplit: true };
    let cp = await startScope(f.client, t, { id: 'all', kind: 'all' });
    let mismatches = 0;
    while (!cp.done) {
      const r = await copyBatch(f.client, t, { id: 'all', kind: 'all' }, 1000, [], { count: { by: 'partition', programOf } });
      if (r.countMismatch) {
        mismatches++;
        expect(r.copiedByProgram.size).toBe(0);
        expect(r.copied).toBeGreaterThan(0);
      }
      cp = r.checkpoint;
    }
    expect(mismatches).toBeGreaterThan(0);
  });

  it('REST_PROGRAM as a real key turns the marker off', () => {
    expect(restMarkerFree(['a', 'b'])).toBe(true);
    expect(restMarkerFree(['a', REST_PROGRAM])).toBe(false);
  });
});
