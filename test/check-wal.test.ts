/**
 * check's "Checkpoints during the copy": the WAL the copy writes against max_wal_size (the cause of the
 * application's slow commits the benchmark measured), with the max_wal_size that spaces the checkpoints out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckItem } from '../src/events.js';
import { COPY_WAL_FACTOR, copyWalAdvice, runCheck } from '../src/steps/check.js';
import { moveFixture, type MoveFixture } from './helpers/moveSetup.js';

const MB = 2 ** 20;
const GB = 2 ** 30;

describe('copyWalAdvice', () => {
  it('counts the checkpoints the copy requests at max_wal_size / (1 + checkpoint_completion_target) each', () => {
    // the demo at 1M rows: 433 MB with indexes, PostgreSQL's defaults (1GB, 0.9)
    const demo = copyWalAdvice(433 * MB, GB, 0.9);
    expect(demo.walBytes).toBeCloseTo(433 * MB * COPY_WAL_FACTOR);
    expect(demo.perCheckpointBytes).toBeCloseTo(GB / 1.9);
    expect(demo.checkpoints).toBe(1);
    expect(demo.suggestedMaxWalSizeGb).toBe(2);
    const big = copyWalAdvice(100 * GB, GB, 0.9);
    expect(big.checkpoints).toBe(Math.floor((100 * GB * COPY_WAL_FACTOR) / (GB / 1.9)));
    // at the suggested size the copy requests at most one
    expect(copyWalAdvice(100 * GB, big.suggestedMaxWalSizeGb * GB, 0.9).checkpoints).toBeLessThanOrEqual(1);
  });
});

describe('check on a real server', () => {
  let f: MoveFixture;
  beforeAll(async () => {
    f = await moveFixture('check_wal', { rows: 2000, programs: 3 });
  });
  afterAll(async () => f?.close());

  it('reports the copy\'s WAL against the server\'s own max_wal_size', async () => {
    const check = await runCheck(f.ctx());
    const item = (check.data as { items: CheckItem[] }).items.find((i) => i.id === 'wal-checkpoints');
    const r = await f.client.query(`SELECT pg_size_bytes(current_setting('max_wal_size'))::float8 AS b, pg_total_relation_size('public.petri_observations')::float8 AS t`);
    const expected = copyWalAdvice(r.rows[0].t, r.rows[0].b, Number((await f.client.query(`SELECT current_setting('checkpoint_completion_target') AS c`)).rows[0].c));
    expect(item).toBeDefined();
    expect(item!.status).toBe(expected.checkpoints >= 2 ? 'warn' : 'ok');
    expect(item!.reason).toMatch(/max_wal_size is \S+ \S+/);
    expect(item!.reason).toContain(`about ${expected.checkpoints} during the copy`);
  });
});
