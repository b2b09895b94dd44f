/**
 * migrate --workers N: several sessions copy disjoint block ranges at once, with one capture and one replay. Under a
 * writer keeping a ledger the swapped table equals the ledger (2 workers in mode all, 3 in mode gradual, which cuts
 * each program's blocks); the rate limit holds for the workers' total (from the journal, not from a clock here).
 */
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { takeSnapshot } from '../src/catalog/snapshot.js';
import type { EngineEvent } from '../src/events.js';
import { replayBatch } from '../src/move/capture.js';
import { runCreate } from '../src/steps/create.js';
import { runMigrate, type MigrateMode } from '../src/steps/migrate.js';
import { runSwap } from '../src/steps/swap.js';
import { runVerifyData } from '../src/steps/verifyData.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { engineContext } from './helpers/engine.js';
import { moveFixture, rowDifferences, type MoveFixture } from './helpers/moveSetup.js';
import { seedScenario, tableChecksum } from './helpers/swapScenario.js';
import { waitUntil } from './helpers/waitUntil.js';
import { mismatchesWith, scenarioWriter, type Writer } from './helpers/writer.js';

const workerNote = (events: EngineEvent[]) =>
  events.filter((e): e is Extract<EngineEvent, { type: 'info' }> => e.type === 'info' && e.message.startsWith('copy workers:')).map((e) => e.message);

describe('migrate --workers under a concurrent writer', () => {
  let db: TestDatabase | undefined;
  afterEach(async () => {
    await db?.drop();
    db = undefined;
  });

  it.each([
    [2, 'all'],
    [3, 'gradual'],
  ] as Array<[number, MigrateMode]>)('%i workers (mode %s): the swapped table equals the writer\'s ledger, the copy equals the source', async (workers, mode) => {
    db = await createTestDatabase(`pw_test_workers_${workers}`);
    await seedScenario(db.config, 6000, 4);
    const { ctx, events, close } = await engineContext(db.config, {}, { lockTimeoutMs: 1000, attempts: 10, baseDelayMs: 50, maxDelayMs: 500 });
    const app = new pg.Client(db.config);
    await app.connect();
    let writer: Writer | undefined;
    try {
      expect((await runCreate(ctx)).exitCode).toBe(0);
      writer = await scenarioWriter(app);
      writer.start();
      const migrated = await runMigrate(ctx, { mode, workers, batchSize: 150, sleepMs: 5 });
      expect(migrated.exitCode, migrated.summary).toBe(0);
      // the work was cut for N workers: block ranges, each its own checkpoint
      const notes = workerNote(events);
      expect(notes.length).toBeGreaterThan(0);
      for (const n of notes) expect(n).toMatch(new RegExp(`^copy workers: ${workers}; \\d+ piece\\(s\\) of work`));
      // a small program (the keys without a lookup row) is one piece; the large ones are cut
      expect(notes.some((n) => /\([1-9]\d* of them block ranges/.test(n)), notes.join('\n')).toBe(true);
      // the parts are gone once their scopes are done
      expect((await ctx.client.query(`SELECT count(*)::int AS n FROM partwise.copy_checkpoint WHERE scope LIKE 'part:%'`)).rows[0].n).toBe(0);
      const verified = await runVerifyData(ctx);
      expect(verified.exitCode, verified.summary).toBe(0);
      const opsAtSwap = writer.ops;
      expect((await runSwap(ctx)).exitCode).toBe(0);
      await waitUntil(() => writer!.ops >= opsAtSwap + 100, { what: '100 writes after the swap' });
      await writer.stop();
      expect(writer.errors).toEqual([]);
      expect(writer.ledger.size).toBeGreaterThan(50);
      expect(await mismatchesWith(ctx.client, writer)).toEqual([]);
      // the old table (reverse capture applied) equals the partitioned one: nothing skipped, nothing twice
      const snap = await takeSnapshot(ctx.client, ctx.cfg);
      while ((await replayBatch(ctx.client, snap, ctx.cfg, 'reverse', 10_000)) > 0);
      expect(await tableChecksum(ctx.client, 'public.petri_observations_old')).toEqual(await tableChecksum(ctx.client, 'public.petri_observations'));
    } finally {
      await writer?.stop();
      await app.end();
      await close();
    }
  });
});

describe('migrate --workers and --max-rate', () => {
  let f: MoveFixture | undefined;
  afterEach(async () => {
    await f?.close();
    f = undefined;
  });

  it('the rate limit holds for the total of the workers, not for each', async () => {
    f = await moveFixture('workers_rate', { rows: 12_000, programs: 3 });
    const maxRate = 4000;
    const r = await runMigrate(f.ctx(), { mode: 'all', workers: 2, batchSize: 400, maxRate });
    expect(r.exitCode, r.summary).toBe(0);
    expect(workerNote(f.events).length).toBeGreaterThan(0);
    // the journal's own record of the run: rows copied and the server's start and end of the step
    const j = (await f.client.query<{ copied: string; seconds: number }>(
      `SELECT detail->>'copied' AS copied, extract(epoch FROM finished_at - started_at)::float8 AS seconds FROM partwise.step_log WHERE step = 'migrate' ORDER BY id DESC LIMIT 1`,
    )).rows[0]!;
    const copied = Number(j.copied);
    expect(copied).toBeGreaterThanOrEqual(12_000);
    // the first batch of each worker starts at once (one batch each of burst); everything after follows the one clock
    const burst = 2 * Math.ceil(maxRate / 5 / 2);
    expect((copied - burst) / j.seconds).toBeLessThanOrEqual(maxRate * 1.05);
    const d = await rowDifferences(f.client);
    expect(d).toEqual({ sourceOnly: 0, newOnly: 0, source: d.source, target: d.source });
  });
});
