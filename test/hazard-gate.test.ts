/**
 * Issue 12, hazards 1-5: what an application does to the source between `verify --data` and `swap`, with a writer
 * running. Each time the swap refuses (exit 3) with nothing changed and names the repair; the repair (migrate,
 * verify --data, swap) ends in a swap where the new table equals the original row for row; the writer saw no error.
 * The last test makes its change while the swap waits for its first lock: the gate, inside the swap's transaction,
 * still catches it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { runMigrate } from '../src/steps/migrate.js';
import { runSwap } from '../src/steps/swap.js';
import { runRollback } from '../src/steps/rollback.js';
import { runVerifyData } from '../src/steps/verifyData.js';
import { expectEqualAfterWriter, expectRefused, repairAndSwap, S, verifiedUnderWriter, type Running } from './helpers/hazard.js';
import { connect, moveFixture, startWriter } from './helpers/moveSetup.js';

describe('the swap re-checks under its locks, migrate repairs (issue 12, hazards 1-5)', () => {
  let running: Running | undefined;
  afterEach(async () => {
    await running?.writer.stop().catch(() => undefined);
    await running?.f.close();
    running = undefined;
  });

  it('1: a column added after migrate finished, with values: swap refuses; migrate adds and back-fills it; a later rollback keeps its values', async () => {
    running = await verifiedUnderWriter('hazard_column_added');
    const { f } = running;
    await f.client.query(`ALTER TABLE ${S} ADD COLUMN reviewed_by text`);
    await f.client.query(`UPDATE ${S} SET reviewed_by = 'reviewer ' || seq_no WHERE seq_no % 7 = 0`);
    await expectRefused(f, /column reviewed_by was added since the latest verify --data.*To repair: run partwise migrate/);
    // verify --data alone does not pass either: the copy lacks the column
    const v = await runVerifyData(f.ctx());
    expect(v.exitCode).toBe(3);
    expect(v.summary).toMatch(/lacks column\(s\) reviewed_by/);
    await repairAndSwap(running);
    const reviewed = Number((await f.client.query(`SELECT count(reviewed_by) AS n FROM ${S}`)).rows[0].n);
    expect(reviewed).toBeGreaterThan(0);
    expect(Number((await f.client.query(`SELECT count(reviewed_by) AS n FROM ${S}_old`)).rows[0].n)).toBe(reviewed);
    // writes after the swap touch those rows: the rollback copies them back with the column, none becomes NULL
    await f.client.query(`UPDATE ${S} SET growth_index = growth_index WHERE reviewed_by IS NOT NULL`);
    const rolled = await runRollback(f.ctx());
    expect(rolled.exitCode, rolled.summary).toBe(0);
    expect((await f.client.query(`SELECT relkind::text AS k FROM pg_class WHERE oid = '${S}'::regclass`)).rows[0].k).toBe('r');
    expect(Number((await f.client.query(`SELECT count(reviewed_by) AS n FROM ${S}`)).rows[0].n)).toBe(reviewed);
  });

  it('2: a NOT NULL column dropped from the source: swap refuses; migrate drops it from the copy; inserts keep working after the swap', async () => {
    running = await verifiedUnderWriter('hazard_column_dropped', async (c) => {
      await c.query(`ALTER TABLE ${S} ADD COLUMN legacy_flag boolean NOT NULL DEFAULT false`);
    });
    const { f } = running;
    // the application stops using the column and drops it; its inserts no longer name it
    await f.client.query(`ALTER TABLE ${S} DROP COLUMN legacy_flag`);
    await expectRefused(f, /column legacy_flag was removed since the latest verify --data/);
    await repairAndSwap(running);
    expect((await f.client.query(`SELECT count(*)::int AS n FROM pg_attribute WHERE attrelid = '${S}'::regclass AND attname = 'legacy_flag' AND NOT attisdropped`)).rows[0].n).toBe(0);
    await f.client.query(`INSERT INTO ${S} (program_id, petri_code) SELECT program_id, 'after swap' FROM public.pilot_programs LIMIT 1`);
  });

  it('3: indexes created on the source (one during migrate, a unique one after verify --data): swap refuses; migrate creates them on the copy; the swap carries them', async () => {
    const f = await moveFixture('hazard_index', { rows: 3000, programs: 3 });
    const writer = await startWriter(f.db.config);
    running = { f, writer };
    const other = await connect(f.db.config);
    let created: Promise<unknown> | undefined;
    const migrated = await runMigrate(f.ctx(undefined, (e) => {
      if (e.type === 'progress.overall' && !created) created = other.query(`CREATE INDEX petri_observations_growth_idx ON ${S} (growth_index)`);
    }), { mode: 'all', batchSize: 300 });
    await created;
    await other.end();
    expect(migrated.exitCode, migrated.summary).toBe(0);
    const verified = await runVerifyData(f.ctx());
    expect(verified.exitCode, verified.summary).toBe(0);
    await f.client.query(`CREATE UNIQUE INDEX CONCURRENTLY petri_observations_code_key ON ${S} (petri_code, program_id)`);
    await expectRefused(f, /index petri_observations_code_key was added since the latest verify --data/);
    await repairAndSwap(running);
    const onSwapped = await f.client.query(`SELECT c.relname, x.indisunique FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid
                                              WHERE x.indrelid = '${S}'::regclass AND c.relname IN ('petri_observations_growth_idx', 'petri_observations_code_key') ORDER BY 1`);
    expect(onSwapped.rows).toEqual([{ relname: 'petri_observations_code_key', indisunique: true }, { relname: 'petri_observations_growth_idx', indisunique: false }]);
    const dup = await f.client.query(`INSERT INTO ${S} (program_id, petri_code) SELECT program_id, petri_code FROM ${S} WHERE petri_code IS NOT NULL LIMIT 1`).catch((e) => e);
    expect(dup.code).toBe('23505');
  });

  it('4: writes that bypass capture (DISABLE TRIGGER ALL, 1000 inserts, 100 updates, ENABLE TRIGGER ALL): swap refuses; migrate copies the programs that differ again', async () => {
    running = await verifiedUnderWriter('hazard_bypass');
    const { f } = running;
    const bulk = await connect(f.db.config);
    await bulk.query(`ALTER TABLE ${S} DISABLE TRIGGER ALL`);
    await bulk.query(`INSERT INTO ${S} (program_id, petri_code) SELECT (SELECT program_id FROM public.pilot_programs ORDER BY created_at LIMIT 1), 'bulk ' || g FROM generate_series(1, 1000) g`);
    await bulk.query(`UPDATE ${S} SET growth_index = 42 WHERE observation_id IN (SELECT observation_id FROM ${S} WHERE petri_code NOT LIKE 'bulk %' ORDER BY observation_id DESC LIMIT 100)`);
    await bulk.query(`ALTER TABLE ${S} ENABLE TRIGGER ALL`);
    await bulk.end();
    await expectRefused(f, /change capture trigger partwise_capture_forward on public\.petri_observations is not ENABLE ALWAYS/);
    const migrated = await runMigrate(f.ctx(), { mode: 'all' });
    expect(migrated.exitCode, migrated.summary).toBe(0);
    expect(migrated.summary).toMatch(/program\(s\) copied again after capture was off/);
    const verified = await runVerifyData(f.ctx());
    expect(verified.exitCode, verified.summary).toBe(0);
    const swapped = await runSwap(f.ctx());
    expect(swapped.exitCode, swapped.summary).toBe(0);
    await expectEqualAfterWriter(running);
    expect((await f.client.query(`SELECT count(*)::int AS n FROM ${S} WHERE petri_code LIKE 'bulk %'`)).rows[0].n).toBe(1000);
  });

  it('5: a row with a NULL key written after verify --data: replay stops naming it, swap refuses; once the row has a key, the repair swaps it in', async () => {
    running = await verifiedUnderWriter('hazard_null_key');
    const { f } = running;
    const id = (await f.client.query(`INSERT INTO ${S} (program_id, petri_code) VALUES (NULL, 'no program') RETURNING observation_id::text AS id`)).rows[0].id as string;
    const refusal = await expectRefused(f, /have no program_id \(NULL\)/);
    expect(refusal).toContain(id);
    // replay never skips it: migrate stops with the row named and what to do
    const stopped = await runMigrate(f.ctx(), { mode: 'all' });
    expect(stopped.exitCode).not.toBe(0);
    expect(stopped.summary).toMatch(/replay stopped: .* no program_id \(NULL\)/);
    expect(stopped.summary).toContain(id);
    await f.client.query(`UPDATE ${S} SET program_id = (SELECT program_id FROM public.pilot_programs ORDER BY created_at LIMIT 1) WHERE observation_id = $1`, [id]);
    await repairAndSwap(running);
    expect((await f.client.query(`SELECT petri_code FROM ${S} WHERE observation_id = $1`, [id])).rows).toEqual([{ petri_code: 'no program' }]);
  });

  it('the gate runs after the locks: capture disabled and enabled again while the swap waits for its first lock is still caught', async () => {
    running = await verifiedUnderWriter('hazard_under_lock');
    const { f } = running;
    // another session holds the copy, which the swap locks first
    const holder = await connect(f.db.config);
    await holder.query('BEGIN');
    await holder.query(`LOCK TABLE ${S}_partitioned IN ACCESS SHARE MODE`);
    const swap = runSwap(f.ctx());
    const swapPid = (f.client as pg.Client & { processID: number }).processID;
    const watcher = await connect(f.db.config);
    // wait until the swap waits for that lock: its checks before the locks are done
    for (;;) {
      const w = await watcher.query(`SELECT 1 FROM pg_locks WHERE pid = $1 AND NOT granted AND relation = '${S}_partitioned'::regclass`, [swapPid]);
      if (w.rowCount) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    // a bulk load that turns capture off and back on to exactly the state it had
    await watcher.query(`ALTER TABLE ${S} DISABLE TRIGGER ALL`);
    await watcher.query(`INSERT INTO ${S} (program_id, petri_code) SELECT (SELECT program_id FROM public.pilot_programs ORDER BY created_at LIMIT 1), 'bulk ' || g FROM generate_series(1, 200) g`);
    await watcher.query(`ALTER TABLE ${S} ENABLE TRIGGER ALL`);
    await watcher.query(`ALTER TABLE ${S} ENABLE ALWAYS TRIGGER partwise_capture_forward`);
    await watcher.query(`ALTER TABLE ${S} ENABLE ALWAYS TRIGGER partwise_capture_forward_truncate`);
    await watcher.end();
    await holder.query('COMMIT');
    await holder.end();
    const r = await swap;
    expect(r.exitCode, r.summary).toBe(3);
    expect(r.summary).toMatch(/refused under its locks: change capture trigger partwise_capture_forward on public\.petri_observations was altered after capture was installed/);
    expect((await f.client.query(`SELECT relkind::text AS k FROM pg_class WHERE oid = '${S}'::regclass`)).rows[0].k).toBe('r');
    await repairAndSwap(running);
    expect((await f.client.query(`SELECT count(*)::int AS n FROM ${S} WHERE petri_code LIKE 'bulk %'`)).rows[0].n).toBe(200);
  });
});
