/**
 * partwise migrate on a real server: under a concurrent writer (inserts, updates that also move rows between
 * programs, deletes), in each mode, with pause/resume, abort and schema drift.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { EngineEvent } from '../src/events.js';
import { captureBacklog, replayBatch } from '../src/move/capture.js';
import { takeSnapshot } from '../src/catalog/snapshot.js';
import { runMigrate } from '../src/steps/migrate.js';
import { runPauseResume } from '../src/steps/pauseResume.js';
import { runVerifyData } from '../src/steps/verifyData.js';
import { readMigrationState } from '../src/state/readState.js';
import { connect, moveFixture, rowDifferences, startWriter, type MoveFixture } from './helpers/moveSetup.js';

let f: MoveFixture | undefined;
afterEach(async () => {
  await f?.close();
  f = undefined;
});

async function drainAll(fx: MoveFixture) {
  const snap = await takeSnapshot(fx.client, fx.cfg);
  while ((await replayBatch(fx.client, snap, fx.cfg, 'forward', 1000)) > 0);
}

const progressOf = (events: EngineEvent[]) => events.filter((e): e is Extract<EngineEvent, { type: 'progress' }> => e.type === 'progress');

describe('migrate', () => {
  it('--mode all under a concurrent writer: the new table equals the source row for row, verify --data agrees', async () => {
    f = await moveFixture('migrate_all');
    const writer = await startWriter(f.db.config);
    const r = await runMigrate(f.ctx(), { mode: 'all', batchSize: 700 });
    expect(r.summary).toContain('row(s) copied');
    expect(r.ok).toBe(true);
    // verify while the writer keeps writing: pending keys are left out, no false mismatch
    const v = await runVerifyData(f.ctx());
    expect(v.summary).toMatch(/data verified/);
    expect(v.exitCode).toBe(0);
    const w = await writer.stop();
    expect(w.errors).toEqual([]);
    expect(w.ops).toBeGreaterThan(50);
    await drainAll(f);
    const d = await rowDifferences(f.client);
    expect(d).toEqual({ sourceOnly: 0, newOnly: 0, source: d.source, target: d.source });
    const overall = f.events.filter((e) => e.type === 'progress.overall');
    expect(overall.length).toBeGreaterThan(5);
    expect(overall.at(-1)).toMatchObject({ mode: 'all', paused: false, batchSize: 700 });
    const done = progressOf(f.events).filter((e) => e.state === 'done');
    expect(new Set(done.map((e) => e.program)).size).toBe(7); // 6 programs + the keys without a lookup row
    expect((await readMigrationState(f.client, f.cfg)).phase).toBe('migrated');
    // running it again resumes from the checkpoints: nothing left to copy
    const again = await runMigrate(f.ctx(), { mode: 'all' });
    expect(again.ok).toBe(true);
    expect((again.data as { copied: number }).copied).toBe(0);
  });

  it('--mode gradual copies and verifies program by program in creation order, pauses and resumes from another session', async () => {
    f = await moveFixture('migrate_gradual');
    const writer = await startWriter(f.db.config);
    const other = await connect(f.db.config);
    let paused = false;
    let resumed: Promise<unknown> | undefined;
    let pausing: Promise<unknown> | undefined;
    const order: string[] = [];
    const r = await runMigrate(
      f.ctx(undefined, (e) => {
        if (e.type === 'progress' && e.state === 'copying' && !order.includes(e.program)) order.push(e.program);
        if (e.type === 'progress' && e.state === 'copying' && !pausing) pausing = runPauseResume({ ...f!.ctx(), client: other }, true);
        if (e.type === 'progress.overall' && e.paused && !paused) {
          paused = true;
          resumed = pausing!.then(() => runPauseResume({ ...f!.ctx(), client: other }, false));
        }
      }),
      { mode: 'gradual', batchSize: 1500 },
    );
    await resumed;
    await other.end();
    expect(r.ok).toBe(true);
    expect(paused).toBe(true);
    const states = progressOf(f.events);
    expect(states.some((e) => e.state === 'paused')).toBe(true);
    expect(states.some((e) => e.state === 'verifying')).toBe(true);
    const lookupOrder = (await f.client.query(`SELECT program_id::text AS k FROM public.pilot_programs ORDER BY created_at`)).rows.map((x) => x.k);
    expect(order).toEqual([...lookupOrder, '(no lookup row)']);
    // each program was done before the next one started copying
    const firstCopying = (p: string) => states.findIndex((e) => e.program === p && e.state === 'copying');
    const firstDone = (p: string) => states.findIndex((e) => e.program === p && e.state === 'done');
    for (let i = 1; i < order.length; i++) expect(firstDone(order[i - 1]!)).toBeLessThan(firstCopying(order[i]!));
    const w = await writer.stop();
    expect(w.errors).toEqual([]);
    await drainAll(f);
    const d = await rowDifferences(f.client);
    expect(d).toEqual({ sourceOnly: 0, newOnly: 0, source: d.source, target: d.source });
  });

  it('--mode one copies only the chosen program (by label, hostile characters included)', async () => {
    f = await moveFixture('migrate_one');
    const r = await runMigrate(f.ctx(), { mode: 'one', program: `O'Brien; trial "B"`, batchSize: 400 });
    expect(r.ok).toBe(true);
    const counts = await f.client.query(`SELECT (SELECT count(*)::int FROM public.petri_observations_partitioned) AS copied,
        (SELECT count(*)::int FROM public.petri_observations o JOIN public.pilot_programs p USING (program_id) WHERE p.name = 'O''Brien; trial "B"') AS wanted,
        (SELECT count(DISTINCT program_id)::int FROM public.petri_observations_partitioned) AS programs`);
    expect(counts.rows[0]).toEqual({ copied: counts.rows[0].wanted, wanted: counts.rows[0].wanted, programs: 1 });
    expect(counts.rows[0].wanted).toBeGreaterThan(0);
    const unknown = await runMigrate(f.ctx(), { mode: 'one', program: 'no such program' });
    expect(unknown.exitCode).toBe(2);
    expect(unknown.summary).toContain('no program with that key or label');
  });

  it('stops after a committed batch on abort, says how to resume, and the next run completes', async () => {
    f = await moveFixture('migrate_abort');
    const abort = new AbortController();
    const r = await runMigrate(f.ctx(abort.signal, (e) => e.type === 'progress.overall' && abort.abort()), { mode: 'all', batchSize: 500 });
    expect(r.exitCode).toBe(130);
    expect(r.summary).toContain('run partwise migrate again to resume');
    const partial = await f.client.query(`SELECT next_block, done FROM partwise.copy_checkpoint WHERE scope = 'all'`);
    expect(partial.rows[0].done).toBe(false);
    expect(Number(partial.rows[0].next_block)).toBeGreaterThan(0);
    const again = await runMigrate(f.ctx(), { mode: 'all', batchSize: 5000 });
    expect(again.ok).toBe(true);
    await drainAll(f);
    const d = await rowDifferences(f.client);
    expect(d).toEqual({ sourceOnly: 0, newOnly: 0, source: 20_000, target: 20_000 });
  });

  it('a column added to the source mid-way is added to the new table, back-filled, and copied', async () => {
    f = await moveFixture('migrate_drift');
    const other = await connect(f.db.config);
    let altered: Promise<unknown> | undefined;
    const r = await runMigrate(
      f.ctx(undefined, (e) => {
        if (e.type === 'progress.overall' && !altered)
          altered = (async () => {
            await other.query(`ALTER TABLE public.petri_observations ADD COLUMN "reviewNote" text DEFAULT 'unreviewed'`);
            await other.query(`UPDATE public.petri_observations SET "reviewNote" = 'seen ' || seq_no WHERE seq_no % 10 = 0`);
          })();
      }),
      { mode: 'all', batchSize: 500 },
    );
    await altered;
    await other.end();
    expect(r.ok).toBe(true);
    expect(f.events.some((e) => e.type === 'warn' && e.message.includes('reviewNote'))).toBe(true);
    await drainAll(f);
    const d = await rowDifferences(f.client); // compares every column of the source, "reviewNote" included
    expect(d).toEqual({ sourceOnly: 0, newOnly: 0, source: 20_000, target: 20_000 });
    const v = await runVerifyData(f.ctx());
    expect(v.exitCode).toBe(0);
  });

  it('a column dropped from the source is dropped from the copy too, and the copy goes on', async () => {
    f = await moveFixture('migrate_drift_drop', { rows: 3000, programs: 3 });
    await f.client.query(`ALTER TABLE public.petri_observations DROP COLUMN petri_code CASCADE`);
    const r = await runMigrate(f.ctx(), { mode: 'all' });
    expect(r.exitCode, r.summary).toBe(0);
    expect(r.summary).toContain('column petri_code was dropped from petri_observations');
    const left = await f.client.query(`SELECT count(*)::int AS n FROM pg_attribute WHERE attrelid = 'public.petri_observations_partitioned'::regclass AND attname = 'petri_code' AND NOT attisdropped`);
    expect(left.rows[0].n).toBe(0);
    await drainAll(f);
    expect(await rowDifferences(f.client)).toEqual({ sourceOnly: 0, newOnly: 0, source: 3000, target: 3000 });
    const v = await runVerifyData(f.ctx());
    expect(v.exitCode, v.summary).toBe(0);
  });
});
