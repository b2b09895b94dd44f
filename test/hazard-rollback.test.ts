/**
 * Issue 12, rollback after the swap: the reverse replay copies rows back by the columns both tables have, so a
 * column the partitioned table lost must stop it (never NULL over the original's values); and writes made while
 * reverse capture was off are copied back anyway (rollback re-installs it and copies the programs that differ).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { takeSnapshot } from '../src/catalog/snapshot.js';
import { replayBatch, ReplayBlocked } from '../src/move/capture.js';
import { runRollback } from '../src/steps/rollback.js';
import { runSwap } from '../src/steps/swap.js';
import { catalogFingerprint } from './helpers/engine.js';
import { S, verifiedUnderWriter, type Running } from './helpers/hazard.js';
import { connect } from './helpers/moveSetup.js';
import { tableChecksum } from './helpers/swapScenario.js';

/**
 * A statement on the partitioned table, again after a serialization failure: while the writer moves rows between
 * partitions, PostgreSQL fails a statement that meets a row moved meanwhile (40001), and the application retries.
 */
async function retried(client: pg.ClientBase, sql: string): Promise<pg.QueryResult> {
  for (;;) {
    try {
      return await client.query(sql);
    } catch (e) {
      if ((e as { code?: string }).code !== '40001') throw e;
    }
  }
}

/** After a rollback: the writer saw no error, and the copy (kept by forward capture) equals the restored original. */
async function expectRolledBackEqual({ f, writer }: Running): Promise<void> {
  const w = await writer.stop();
  expect(w.errors).toEqual([]);
  expect((await f.client.query(`SELECT relkind::text AS k FROM pg_class WHERE oid = '${S}'::regclass`)).rows[0].k).toBe('r');
  const snap = await takeSnapshot(f.client, f.cfg);
  while ((await replayBatch(f.client, snap, f.cfg, 'forward', 10_000)) > 0);
  expect(await tableChecksum(f.client, `${S}_partitioned`)).toEqual(await tableChecksum(f.client, S));
}

describe('rollback after the swap re-checks under its locks (issue 12)', () => {
  let running: Running | undefined;
  afterEach(async () => {
    await running?.writer.stop().catch(() => undefined);
    await running?.f.close();
    running = undefined;
  });

  it('a column dropped from the partitioned table after the swap: rollback refuses instead of writing NULL over the original\'s values', async () => {
    running = await verifiedUnderWriter('hazard_rollback_column', async (c) => {
      await c.query(`ALTER TABLE ${S} ADD COLUMN lab_note text`);
      await c.query(`UPDATE ${S} SET lab_note = 'note ' || seq_no`);
    });
    const { f } = running;
    const swapped = await runSwap(f.ctx());
    expect(swapped.exitCode, swapped.summary).toBe(0);
    await f.client.query(`ALTER TABLE ${S} DROP COLUMN lab_note`);
    // writes after the drop touch many rows that have a note in the original: each would be copied back without it
    const touched = await retried(f.client, `UPDATE ${S} SET growth_index = growth_index WHERE seq_no % 3 = 0 RETURNING observation_id`);
    const noted = Number((await f.client.query(`SELECT count(lab_note) AS n FROM ${S}_old WHERE observation_id = ANY($1::uuid[])`, [touched.rows.map((r) => r.observation_id)])).rows[0].n);
    expect(noted).toBeGreaterThan(100);
    const notes = Number((await f.client.query(`SELECT count(lab_note) AS n FROM ${S}_old`)).rows[0].n);
    const before = await catalogFingerprint(f.client);
    const refused = await runRollback(f.ctx());
    expect(refused.exitCode, refused.summary).toBe(3);
    expect(refused.summary).toMatch(/column lab_note of petri_observations_old is missing on petri_observations .*would write NULL.*nothing was changed/);
    expect(await catalogFingerprint(f.client)).toBe(before);
    expect(Number((await f.client.query(`SELECT count(lab_note) AS n FROM ${S}_old`)).rows[0].n)).toBe(notes);
    // nor does the reverse replay on its own: it stops, and the changes stay in the log
    const snap = await takeSnapshot(f.client, f.cfg);
    const stopped = await replayBatch(f.client, snap, f.cfg, 'reverse', 10_000).catch((e) => e);
    expect(stopped).toBeInstanceOf(ReplayBlocked);
    expect(stopped.message).toMatch(/column\(s\) lab_note of public\.petri_observations_old are missing/);
    expect(Number((await f.client.query(`SELECT count(lab_note) AS n FROM ${S}_old`)).rows[0].n)).toBe(notes);
    // the person decides: the notes are given up on purpose, and the rollback goes through
    await f.client.query(`ALTER TABLE ${S}_old DROP COLUMN lab_note`);
    const rolled = await runRollback(f.ctx());
    expect(rolled.exitCode, rolled.summary).toBe(0);
    await expectRolledBackEqual(running);
  });

  it('writes made while reverse capture was off (disabled and enabled again) are copied back by the rollback', async () => {
    running = await verifiedUnderWriter('hazard_rollback_bypass');
    const { f } = running;
    const swapped = await runSwap(f.ctx());
    expect(swapped.exitCode, swapped.summary).toBe(0);
    const bulk = await connect(f.db.config);
    await bulk.query(`ALTER TABLE ${S} DISABLE TRIGGER ALL`);
    await bulk.query(`INSERT INTO ${S} (program_id, petri_code) SELECT (SELECT program_id FROM public.pilot_programs ORDER BY created_at LIMIT 1), 'bulk ' || g FROM generate_series(1, 500) g`);
    await retried(bulk, `UPDATE ${S} SET growth_index = 7 WHERE petri_code NOT LIKE 'bulk %' AND seq_no % 10 = 0`);
    await bulk.query(`ALTER TABLE ${S} ENABLE TRIGGER ALL`);
    await bulk.end();
    const rolled = await runRollback(f.ctx());
    expect(rolled.exitCode, rolled.summary).toBe(0);
    expect(rolled.summary).toMatch(/reverse capture had been off: [1-9]\d* program\(s\) copied back whole/);
    expect((await f.client.query(`SELECT count(*)::int AS n FROM ${S} WHERE petri_code LIKE 'bulk %'`)).rows[0].n).toBe(500);
    await expectRolledBackEqual(running);
  });
});
