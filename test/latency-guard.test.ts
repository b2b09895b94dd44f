/**
 * The latency guard (src/move/latencyGuard.ts): AIMD on the copy's rate, a probe that really commits a transaction,
 * and migrate slowing down when the probe commits get slow during the copy (made slow for real: the probe sleeps
 * once the new table has rows, which only the copy puts there).
 */
import type pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { parseCommandLine } from '../src/cli/args.js';
import { resolveConfig } from '../src/config/config.js';
import { Journal } from '../src/journal/journal.js';
import { CALIBRATION_PROBES, effectiveRate, GUARD_FLOOR_ROWS_PER_S, LatencyGuard, migrationProbe, nextGuardRate } from '../src/move/latencyGuard.js';
import { migrate } from '../src/registry/steps/migrate.js';
import { runMigrate } from '../src/steps/migrate.js';
import { median } from '../src/stats.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { connect, moveFixture, type MoveFixture } from './helpers/moveSetup.js';
import { waitUntil } from './helpers/waitUntil.js';

/**
 * Waits until the guard has taken `n` more probes (each probe query takes a number from the sequence probe_n). Only
 * the probes of the last 3 s count for a verdict: enough probes after a change fill that window with changed ones.
 */
async function probesTaken(c: pg.Client, n: number): Promise<void> {
  const count = async () => Number((await c.query<{ n: string }>(`SELECT last_value AS n FROM probe_n`)).rows[0]!.n);
  const mark = await count();
  await waitUntil(async () => (await count()) - mark >= n, { what: `${n} probes of the latency guard`, timeoutMs: 60_000 });
}

describe('latency guard: the rate rule', () => {
  it('cuts by 30 % from what the copy achieves, never below the floor', () => {
    expect(nextGuardRate(null, 10_000, true, 500, 20_000)).toBe(7000);
    expect(nextGuardRate(7000, 9000, true, 500, 20_000)).toBe(4900);
    expect(nextGuardRate(600, 600, true, 500, 20_000)).toBe(GUARD_FLOOR_ROWS_PER_S);
    expect(nextGuardRate(null, 10, true, 500, 20_000)).toBe(GUARD_FLOOR_ROWS_PER_S);
  });

  it('raises by a step while commits are fast, and stops limiting past the ceiling', () => {
    expect(nextGuardRate(4900, 4900, false, 500, 20_000)).toBe(5400);
    expect(nextGuardRate(19_800, 19_800, false, 500, 20_000)).toBeNull();
    expect(nextGuardRate(null, 30_000, false, 500, 20_000)).toBeNull();
  });

  it('the stricter of the user limit and the guard wins', () => {
    expect(effectiveRate(null, null)).toBeNull();
    expect(effectiveRate(2000, null)).toBe(2000);
    expect(effectiveRate(null, 1500)).toBe(1500);
    expect(effectiveRate(2000, 1500)).toBe(1500);
    expect(effectiveRate(1000, 1500)).toBe(1000);
  });

  it('--max-latency-ratio is parsed and checked', () => {
    const ok = migrate.options(parseCommandLine(['migrate', '--mode', 'all', '--max-latency-ratio', '1.5']).flags);
    expect(ok).toMatchObject({ mode: 'all', maxLatencyRatio: 1.5 });
    expect(() => migrate.options(parseCommandLine(['migrate', '--mode', 'all', '--max-latency-ratio', '1']).flags)).toThrow(/between 1\.1 and 100/);
    expect(() => migrate.options(parseCommandLine(['migrate', '--mode', 'all', '--max-latency-ratio', 'fast']).flags)).toThrow(/takes a number/);
  });
});

describe('latency guard against the server', () => {
  let db: TestDatabase | undefined;
  let f: MoveFixture | undefined;
  afterEach(async () => {
    await f?.close();
    f = undefined;
    await db?.drop();
    db = undefined;
  });

  it('each probe commits a write of its own (WAL to flush), one transaction per probe', async () => {
    db = await createTestDatabase('pw_test_guard');
    const c = await connect(db.config);
    try {
      const journal = await Journal.open(c, resolveConfig({}));
      const lsn = async () => (await c.query(`SELECT pg_current_wal_insert_lsn()::text AS l`)).rows[0].l as string;
      const before = Number((await c.query(`SELECT txid_current()::int8 AS x`)).rows[0].x);
      const lsnBefore = await lsn();
      const guard = await LatencyGuard.start(db.config, 2, migrationProbe(journal.migrationId));
      await guard.stop();
      const after = Number((await c.query(`SELECT txid_current()::int8 AS x`)).rows[0].x);
      // one transaction per probe, each with an xid and a write: the probe row was written, WAL grew
      expect(after - before).toBeGreaterThanOrEqual(CALIBRATION_PROBES + 1);
      const row = await c.query(`SELECT probed_at FROM partwise.latency_probe WHERE migration_id = $1`, [journal.migrationId]);
      expect(row.rows).toHaveLength(1);
      expect(Number((await c.query(`SELECT pg_wal_lsn_diff($1, $2) AS d`, [await lsn(), lsnBefore])).rows[0].d)).toBeGreaterThan(0);
      expect(guard.baselineMs).toBeGreaterThan(0);
      expect(guard.limitMs).toBeCloseTo(guard.baselineMs * 2, 9);
    } finally {
      await c.end();
    }
  });

  it('slow probes cut the rate, fast ones raise it again', async () => {
    db = await createTestDatabase('pw_test_guard');
    const c = await connect(db.config);
    try {
      // 20 ms probes before, 100 ms while "slow": far apart whatever else the machine is doing
      await c.query(`CREATE TABLE probe_delay (s float8 NOT NULL); INSERT INTO probe_delay VALUES (0.02); CREATE SEQUENCE probe_n`);
      const guard = await LatencyGuard.start(db.config, 2, { sql: `SELECT pg_sleep(s), nextval('probe_n') FROM probe_delay`, params: [] });
      try {
        await c.query(`UPDATE probe_delay SET s = 0.1`);
        // 16 slow probes (100 ms, one every 100 ms after the last) span more than the 3 s window: only slow ones count
        await probesTaken(c, 16);
        // no verdict before the copy has a measured rate
        expect(guard.decide(0, Date.now())).toBeNull();
        const cut = guard.decide(10_000, Date.now());
        expect(cut?.rate).toBe(7000);
        expect(cut!.probeMs).toBeGreaterThan(cut!.limitMs);
        await c.query(`UPDATE probe_delay SET s = 0.02`);
        // 26 fast probes (20 ms, one every 100 ms after the last) span more than 3 s: the slow ones left the window
        await probesTaken(c, 26);
        const raised = guard.decide(7000, Date.now());
        expect(raised?.rate).toBe(7500);
      } finally {
        await guard.stop();
      }
    } finally {
      await c.end();
    }
  });

  it('watches the slow end: one probe in four slow cuts the rate though the median is normal', async () => {
    db = await createTestDatabase('pw_test_guard');
    const c = await connect(db.config);
    try {
      // 20 ms probes before; then every fourth probe takes 100 ms: the median stays at 20 ms, the p90 does not
      await c.query(`CREATE TABLE probe_delay (tail bool NOT NULL); INSERT INTO probe_delay VALUES (false); CREATE SEQUENCE probe_n`);
      const sql = `SELECT pg_sleep(CASE WHEN (SELECT tail FROM probe_delay) AND nextval('probe_n') % 4 = 0 THEN 0.1 ELSE 0.02 END)`;
      const guard = await LatencyGuard.start(db.config, 2, { sql, params: [] });
      try {
        await c.query(`UPDATE probe_delay SET tail = true`);
        // 24 probes (four take at least 3 x 120 + 200 ms) span more than the 3 s window: all with the slow tail
        await probesTaken(c, 24);
        const cut = guard.decide(10_000, Date.now());
        expect(cut?.rate).toBe(7000);
        expect(cut!.probeMs).toBeGreaterThanOrEqual(100);
      } finally {
        await guard.stop();
      }
    } finally {
      await c.end();
    }
  });

  it('migrate slows the copy while probe commits are slow, and still copies every row', async () => {
    f = await moveFixture('pw_test_guard_migrate', { rows: 6000, programs: 4 });
    // slow only once the copy has committed rows into the new table: the calibration before the copy is fast
    const probe = `SELECT pg_sleep(CASE WHEN EXISTS (SELECT 1 FROM public.petri_observations_partitioned) THEN 0.04 ELSE 0 END)`;
    const r = await runMigrate(f.ctx(), { mode: 'all', maxRate: 2000, maxLatencyRatio: 2, guardProbe: { sql: probe, params: [] } });
    expect(r.ok, r.summary).toBe(true);
    const messages = f.events.filter((e) => e.type === 'info').map((e) => (e as { message: string }).message);
    expect(messages.some((m) => /latency guard: a commit takes .* before the copy/.test(m))).toBe(true);
    const cuts = messages.map((m) => /latency guard: .*copy rate (\d+) rows\/s/.exec(m)).filter((m) => m !== null).map((m) => Number(m![1]));
    expect(cuts.length).toBeGreaterThan(0);
    expect(cuts[0]).toBeLessThan(2000);
    // and the cut rate is applied: batches (rows between progress reports) shrink after the first cut, from about
    // 400 rows (2000 rows/s, five batches a second)
    const firstCut = f.events.findIndex((e) => e.type === 'info' && /copy rate \d+ rows\/s/.test((e as { message: string }).message));
    const batches = (from: number, to: number) => {
      const copied = f!.events.slice(from, to).filter((e) => e.type === 'progress.overall').map((e) => (e as { copied: number }).copied);
      return copied.slice(1).map((c, i) => c - copied[i]!).filter((d) => d > 0);
    };
    const before = batches(0, firstCut);
    const after = batches(firstCut, f.events.length);
    expect(before.length).toBeGreaterThan(0);
    expect(after.length).toBeGreaterThan(2);
    expect(median(after)).toBeLessThan(0.8 * median(before));
    const n = (q: string) => f!.client.query(q).then((x) => Number(x.rows[0].n));
    expect(await n(`SELECT count(*) AS n FROM public.petri_observations_partitioned`)).toBe(await n(`SELECT count(*) AS n FROM public.petri_observations WHERE program_id IS NOT NULL`));
  }, 60_000);

  it('a probe that fails stops the guard, never the copy', async () => {
    f = await moveFixture('pw_test_guard_fail', { rows: 3000, programs: 3 });
    // fails (division by zero) once the copy has put rows in the new table
    const probe = `SELECT 1 / (CASE WHEN EXISTS (SELECT 1 FROM public.petri_observations_partitioned) THEN 0 ELSE 1 END)`;
    const r = await runMigrate(f.ctx(), { mode: 'all', maxRate: 1500, maxLatencyRatio: 2, guardProbe: { sql: probe, params: [] } });
    expect(r.ok, r.summary).toBe(true);
    const warns = f.events.filter((e) => e.type === 'warn').map((e) => (e as { message: string }).message);
    expect(warns.some((m) => /latency guard: its probe failed \(division by zero\); the guard stopped and no longer limits the copy/.test(m))).toBe(true);
    const n = (q: string) => f!.client.query(q).then((x) => Number(x.rows[0].n));
    expect(await n(`SELECT count(*) AS n FROM public.petri_observations_partitioned`)).toBe(await n(`SELECT count(*) AS n FROM public.petri_observations WHERE program_id IS NOT NULL`));
  }, 60_000);

  it('a guard that cannot measure before the copy warns, and the copy runs without it', async () => {
    f = await moveFixture('pw_test_guard_nocal', { rows: 2000, programs: 3 });
    const r = await runMigrate(f.ctx(), { mode: 'all', maxRate: 5000, maxLatencyRatio: 2, guardProbe: { sql: 'SELECT 1 / 0', params: [] } });
    expect(r.ok, r.summary).toBe(true);
    const warns = f.events.filter((e) => e.type === 'warn').map((e) => (e as { message: string }).message);
    expect(warns.some((m) => /latency guard: could not measure commits before the copy \(division by zero\); the copy runs without the guard at --max-rate 5000 rows\/s/.test(m))).toBe(true);
    const n = (q: string) => f!.client.query(q).then((x) => Number(x.rows[0].n));
    expect(await n(`SELECT count(*) AS n FROM public.petri_observations_partitioned`)).toBe(await n(`SELECT count(*) AS n FROM public.petri_observations WHERE program_id IS NOT NULL`));
  }, 60_000);
});
