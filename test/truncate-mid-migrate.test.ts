/**
 * TRUNCATE of the source while migrate copies: the copy starts over (replay empties the new table the same way), the
 * rows written since come through the change log, migrate finishes and says what happened in people's words.
 */
import { afterEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { runMigrate } from '../src/steps/migrate.js';
import { connect, moveFixture, rowDifferences, startWriter, type MoveFixture } from './helpers/moveSetup.js';

describe('TRUNCATE of the source during migrate', () => {
  let f: MoveFixture;
  let other: pg.Client | undefined;
  afterEach(async () => {
    await other?.end();
    await f?.close();
    other = undefined;
  });

  // with 2 workers the copy is cut into block ranges: the batch that meets the new file starts the whole scope over
  it.each([1, 2])('starts the copy over, keeps every row written since, and tells it plainly (%i worker(s))', async (workers) => {
    f = await moveFixture(`truncate_mid_migrate_${workers}`, { rows: 20_000 });
    other = await connect(f.db.config);
    // the application keeps writing through it all
    const writer = await startWriter(f.db.config, 2);
    let truncated: Promise<unknown> | null = null;
    let batches = 0;
    // a slow copy: the TRUNCATE comes after the third batch, while there is still much to copy
    const result = await runMigrate(f.ctx(undefined, (e) => {
      if (e.type === 'progress.overall' && ++batches === 3) truncated = other!.query('TRUNCATE public.petri_observations');
    }), { mode: 'all', batchSize: 1000, maxRate: 5000, workers });
    expect(truncated).not.toBeNull();
    await truncated;
    const w = await writer.stop();
    expect(w.errors).toEqual([]);
    expect(result.summary).not.toMatch(/checkpoint/);
    expect(result, result.summary).toMatchObject({ ok: true });
    const said = f.events.filter((e) => e.type === 'warn').map((e) => (e as { message: string }).message);
    expect(said.some((m) => m.includes('public.petri_observations was emptied (TRUNCATE) during the copy') && m.includes('nothing is lost')), said.join('\n')).toBe(true);
    // the writes made since the TRUNCATE, and those after migrate ended, reach the new table through the change log
    const again = await runMigrate(f.ctx(), { mode: 'all', workers });
    expect(again, again.summary).toMatchObject({ ok: true });
    const d = await rowDifferences(f.client);
    expect(d.source).toBeGreaterThan(0);
    expect(d).toEqual({ sourceOnly: 0, newOnly: 0, source: d.source, target: d.source });
  });
});
