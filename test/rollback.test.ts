import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { catalogFingerprint, engineContext } from './helpers/engine.js';
import { createMigrateVerify, seedScenario, tableChecksum } from './helpers/swapScenario.js';
import { takeSnapshot } from '../src/catalog/snapshot.js';
import { captureInstalled } from '../src/move/capture.js';
import { runRollback } from '../src/steps/rollback.js';
import { runSwap } from '../src/steps/swap.js';
import { runVerifyData } from '../src/steps/verifyData.js';
import type { TableInfo } from '../src/catalog/types.js';

/** The catalog outside partwise's own schema (the journal stays, by design). */
const withoutJournal = (fingerprint: string) => fingerprint.split('\n').filter((l) => !/\bpartwise\b/.test(l)).join('\n');

/** A table's snapshot without what ANALYZE or autovacuum may change on their own. */
const shape = (t: TableInfo | null) => t && { ...t, reltuples: 0, totalBytes: 0, tableBytes: 0 };

describe('rollback', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('pw_test_rollback');
    await seedScenario(db.config);
  });
  afterAll(async () => db?.drop());

  it('before the swap: the source is exactly as before (same checksum, same catalog objects)', async () => {
    const { ctx, close } = await engineContext(db.config);
    try {
      const fingerprint = await catalogFingerprint(ctx.client);
      const source = (await takeSnapshot(ctx.client, ctx.cfg)).source;
      const lookup = (await takeSnapshot(ctx.client, ctx.cfg)).lookup;
      const checksum = await tableChecksum(ctx.client, 'public.petri_observations');
      await createMigrateVerify(ctx);
      expect(await captureInstalled(ctx.client, ctx.cfg, 'forward')).toBe(true);

      const r = await runRollback(ctx);
      expect(r.exitCode, r.summary).toBe(0);
      const after = await takeSnapshot(ctx.client, ctx.cfg);
      expect(after.target).toBeNull();
      expect(shape(after.source)).toEqual(shape(source));
      expect(shape(after.lookup)).toEqual(shape(lookup));
      expect(await tableChecksum(ctx.client, 'public.petri_observations')).toEqual(checksum);
      expect(withoutJournal(await catalogFingerprint(ctx.client))).toBe(withoutJournal(fingerprint));
      // the copy's progress and verifications went with the copy: swap cannot run on stale results
      const left = await ctx.client.query(`SELECT (SELECT count(*) FROM partwise.data_verification)::int AS v, (SELECT count(*) FROM partwise.copy_checkpoint)::int AS c`);
      expect(left.rows[0]).toEqual({ v: 0, c: 0 });
      // running it again changes nothing
      expect((await runRollback(ctx)).exitCode).toBe(0);
      expect(withoutJournal(await catalogFingerprint(ctx.client))).toBe(withoutJournal(fingerprint));
    } finally {
      await close();
    }
  });

  it('after the swap: every write made since the swap is in the restored table (inserts, updates incl. key moves, deletes)', async () => {
    const { ctx, close } = await engineContext(db.config);
    const app = new pg.Client(db.config);
    await app.connect();
    try {
      await createMigrateVerify(ctx);
      const swapped = await runSwap(ctx);
      expect(swapped.exitCode, swapped.summary).toBe(0);

      // the application keeps writing through the original name, in a separate session
      const programs = (await app.query(`SELECT program_id FROM public.pilot_programs ORDER BY created_at`)).rows.map((r) => r.program_id as string);
      await app.query(`INSERT INTO public.petri_observations (program_id, petri_code, lab_id) SELECT $1, 'post-swap-' || g, 1 FROM generate_series(1, 20) g`, [programs[0]]);
      await app.query(`UPDATE public.petri_observations SET growth_index = 42 WHERE observation_id IN (SELECT observation_id FROM public.petri_observations WHERE program_id = $1 LIMIT 30)`, [programs[1]]);
      // key change: the row moves to another partition
      const moved = await app.query(`UPDATE public.petri_observations SET program_id = $2 WHERE observation_id IN (SELECT observation_id FROM public.petri_observations WHERE program_id = $1 LIMIT 10) RETURNING observation_id`, [programs[2], programs[3]]);
      expect(moved.rowCount).toBe(10);
      await app.query(`DELETE FROM public.petri_images WHERE observation_id IN (SELECT observation_id FROM public.petri_observations WHERE program_id = $1 LIMIT 15)`, [programs[3]]);
      await app.query(`DELETE FROM public.petri_observations WHERE observation_id IN (SELECT observation_id FROM public.petri_observations WHERE program_id = $1 AND petri_code IS DISTINCT FROM 'PROTECTED' LIMIT 15)`, [programs[3]]);
      const expected = await tableChecksum(ctx.client, 'public.petri_observations');

      const r = await runRollback(ctx);
      expect(r.exitCode, r.summary).toBe(0);
      const snap = await takeSnapshot(ctx.client, ctx.cfg);
      expect(snap.source!.relkind).toBe('r');
      expect(snap.old).toBeNull();
      expect(snap.target!.relkind).toBe('p');
      expect(await tableChecksum(ctx.client, 'public.petri_observations')).toEqual(expected);
      // the copy stays in sync (forward capture again): state "migrated"
      expect(await captureInstalled(ctx.client, ctx.cfg, 'forward')).toBe(true);
      expect(await captureInstalled(ctx.client, ctx.cfg, 'reverse')).toBe(false);
      await app.query(`INSERT INTO public.petri_observations (program_id, petri_code) VALUES ($1, 'after-rollback')`, [programs[0]]);
      const v = await runVerifyData(ctx);
      expect(v.exitCode, v.summary).toBe(0);
      expect(await tableChecksum(ctx.client, 'public.petri_observations_partitioned')).toEqual(await tableChecksum(ctx.client, 'public.petri_observations'));
      // and it can be swapped again
      const again = await runSwap(ctx);
      expect(again.exitCode, again.summary).toBe(0);
    } finally {
      await app.end();
      await close();
    }
  });
});
