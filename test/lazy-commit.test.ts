/**
 * The copy's batches and the replay's transactions commit lazily (synchronous_commit off for that transaction only,
 * src/exec/lazyCommit.ts), and nothing else does: a statement trigger on the new table records the setting in force
 * whenever rows reach it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { takeSnapshot } from '../src/catalog/snapshot.js';
import { drainLog } from '../src/move/capture.js';
import { runMigrate } from '../src/steps/migrate.js';
import { moveFixture, type MoveFixture } from './helpers/moveSetup.js';

describe('lazy commits of the copy and the replay', () => {
  let f: MoveFixture | undefined;
  afterEach(async () => {
    await f?.close();
    f = undefined;
  });

  it('batches and replays commit without waiting for the flush; the session keeps the server setting', async () => {
    f = await moveFixture('pw_test_lazy', { rows: 3000, programs: 3 });
    const c = f.client;
    // the test servers may run with synchronous_commit off: make the session's own setting the durable one
    await c.query(`SET synchronous_commit = on`);
    await c.query(`CREATE TABLE public.commit_seen (setting text NOT NULL)`);
    await c.query(`CREATE FUNCTION public.note_commit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN INSERT INTO public.commit_seen VALUES (current_setting('synchronous_commit')); RETURN NULL; END $$`);
    await c.query(`CREATE TRIGGER note_commit AFTER INSERT OR DELETE ON public.petri_observations_partitioned FOR EACH STATEMENT EXECUTE FUNCTION public.note_commit()`);

    const r = await runMigrate(f.ctx(), { mode: 'all', batchSize: 500 });
    expect(r.ok, r.summary).toBe(true);
    const afterCopy = (await c.query(`SELECT setting, count(*)::int AS n FROM public.commit_seen GROUP BY 1`)).rows;
    // several batches, every one lazy
    expect(afterCopy).toEqual([{ setting: 'off', n: expect.any(Number) }]);
    expect(afterCopy[0].n).toBeGreaterThan(3);
    expect((await c.query(`SHOW synchronous_commit`)).rows[0].synchronous_commit).toBe('on');

    // a change after the copy reaches the new table by replay, lazily too
    await c.query(`TRUNCATE public.commit_seen`);
    await c.query(`UPDATE public.petri_observations SET growth_index = 1 WHERE observation_id = (SELECT observation_id FROM public.petri_observations WHERE program_id IS NOT NULL LIMIT 1)`);
    const applied = await drainLog(c, await takeSnapshot(c, f.cfg), f.cfg, 'forward', { limit: 100, maxRounds: 5 });
    expect(applied).toBe(1);
    const replayed = (await c.query(`SELECT DISTINCT setting FROM public.commit_seen`)).rows.map((x) => x.setting);
    expect(replayed).toEqual(['off']);
    expect((await c.query(`SHOW synchronous_commit`)).rows[0].synchronous_commit).toBe('on');

    // and an ordinary write of the same session keeps the durable setting
    await c.query(`TRUNCATE public.commit_seen`);
    await c.query(`DELETE FROM public.petri_observations_partitioned WHERE false`);
    expect((await c.query(`SELECT DISTINCT setting FROM public.commit_seen`)).rows.map((x) => x.setting)).toEqual(['on']);
  }, 60_000);
});
