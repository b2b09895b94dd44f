import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMigrationState } from '../src/state/readState.js';
import type pg from 'pg';
import { createTestDatabase, withClient, type TestDatabase } from './helpers/db.js';
import { engineContext } from './helpers/engine.js';
import { seedDemo } from '../src/demo/seedDemo.js';
import { runCreate } from '../src/steps/create.js';
import { comparisonHeadline, runTestInsert, type TestInsertReport } from '../src/steps/testInsert.js';
import { measurePlan, type PlanMeasure } from '../src/steps/explainPlan.js';

const HOSTILE = `O'Brien; trial "B"`;

async function count(c: pg.ClientBase, sql: string, params: unknown[] = []): Promise<number> {
  return Number((await c.query(sql, params)).rows[0].n);
}

describe('test-insert on the demo', () => {
  let db: TestDatabase;
  let largest: string;
  beforeAll(async () => {
    db = await createTestDatabase('pw_test_test_insert');
    await withClient(db.config, async (c) => {
      await seedDemo(c, { rows: 20000, programs: 6 });
      largest = (await c.query(`SELECT program_id::text AS k FROM petri_observations GROUP BY 1 ORDER BY count(*) DESC LIMIT 1`)).rows[0].k;
    });
    const { ctx, close } = await engineContext(db.config);
    try {
      const created = await runCreate(ctx);
      expect(created.exitCode, created.summary).toBe(0);
    } finally {
      await close();
    }
  });
  afterAll(async () => db?.drop());

  it('copies a sample of the largest program, compares both query forms, reports pruning, removes the sample', async () => {
    const { ctx, events, close } = await engineContext(db.config);
    try {
      const r = await runTestInsert(ctx, { rows: 100, keep: false });
      expect(r.exitCode, r.summary).toBe(0);
      const report = r.data as TestInsertReport;
      expect(report.program.key).toBe(largest);
      expect(report.copied).toBe(100);
      expect(report.removed).toBe(100);
      expect(report.kept).toBe(false);
      expect(report.partitionedRows).toBe(100); // measured while the sample was in
      expect(report.sourceRows).toBeGreaterThan(100);
      expect(await count(ctx.client, `SELECT count(*) AS n FROM petri_observations_partitioned`)).toBe(0);

      const partitions = 7; // 6 programs + default
      const literal = report.comparisons.find((c) => c.form === 'literal')!;
      const subquery = report.comparisons.find((c) => c.form === 'subquery')!;
      expect(literal.query).toMatch(/avg\("growth_index"\).*"observed_at" > now\(\) - interval '30 days'/);
      expect(subquery.query).toMatch(/= \(SELECT "program_id" FROM "public"."pilot_programs" WHERE "name" = .* LIMIT 1\)/);
      // literal key: the planner prunes; the other partitions are not even in the plan
      expect(literal.partitioned.scanned).toEqual([report.partition]);
      expect(literal.partitioned.partitions).toBe(partitions);
      expect(literal.partitioned.prunedAtPlan).toBe(partitions - 1);
      expect(literal.partitioned.neverExecuted).toEqual([]);
      // subquery key: every partition is in the plan, all but one never executed
      // (docs/behaviours/subquery-key-prunes-at-execution.md)
      expect(subquery.partitioned.scanned).toEqual([report.partition]);
      expect(subquery.partitioned.neverExecuted).toHaveLength(partitions - 1);
      expect(subquery.partitioned.neverExecuted).not.toContain(report.partition);
      expect(subquery.partitioned.prunedAtPlan).toBe(0);
      // the source is one table, read either way
      for (const c of [literal, subquery]) {
        expect(c.source.partitions).toBe(1);
        expect(c.source.scanned).toEqual(['petri_observations']);
        expect(c.source.sharedHit + c.source.sharedRead).toBeGreaterThan(0);
        expect(c.timeRatio).not.toBeNull();
        expect(c.buffersRatio).not.toBeNull();
      }
      // plainly said: a partial table's timings say little, and it can be run again after the migration
      expect(report.notes[0]).toMatch(/partially filled table say little/);
      // on a sample there is no verdict, only the measurements (a ratio there would be noise)
      for (const c of [literal, subquery]) {
        expect(c.headline).toMatch(/no verdict yet, the partitioned side holds only a sample/);
        expect(c.headline).not.toMatch(/\dx /);
      }
      // the caveat once: an info line, not again in the summary
      const caveats = events.filter((e) => e.type === 'info' && /Run partwise test-insert again after the migration/.test(e.message));
      expect(caveats).toHaveLength(1);
      expect(r.summary).not.toMatch(/say little/);
      expect(events.some((e) => e.type === 'info' && /6 never executed/.test(e.message))).toBe(true);
      const log = await ctx.client.query(`SELECT status, detail FROM partwise.step_log WHERE step = 'test-insert' ORDER BY id DESC LIMIT 1`);
      expect(log.rows[0]).toMatchObject({ status: 'done', detail: expect.objectContaining({ copied: 100, removed: 100 }) });
      expect((await readMigrationState(ctx.client, ctx.cfg)).steps['test-insert'].state).toBe('done');
    } finally {
      await close();
    }
  });

  it('selects a program by its hostile label, keeps the sample with --keep, and later removes only what it inserted', async () => {
    const { ctx, close } = await engineContext(db.config);
    try {
      const key = (await ctx.client.query(`SELECT program_id::text AS k FROM pilot_programs WHERE name = $1`, [HOSTILE])).rows[0].k as string;
      const inNew = () => count(ctx.client, `SELECT count(*) AS n FROM petri_observations_partitioned WHERE program_id = $1`, [key]);
      const kept = await runTestInsert(ctx, { program: HOSTILE, rows: 30, keep: true });
      expect(kept.exitCode, kept.summary).toBe(0);
      const k = kept.data as TestInsertReport;
      expect(k.program).toEqual({ key, label: HOSTILE });
      expect(k.copied).toBe(30);
      expect(k.kept).toBe(true);
      expect(k.removed).toBe(0);
      expect(await inNew()).toBe(30);
      // the seed's form looks the program up by its name, quoted
      expect(k.comparisons.find((c) => c.form === 'subquery')!.query).toContain(`"name" = 'O''Brien; trial "B"'`);
      // identity and generated values arrive as on the source
      const diff = await count(ctx.client,
        `SELECT count(*) AS n FROM petri_observations_partitioned n JOIN petri_observations s USING (observation_id)
          WHERE n.seq_no <> s.seq_no OR n.legacy_no <> s.legacy_no OR n.growth_band <> s.growth_band OR n."daysInThisProgramPhase" IS DISTINCT FROM s."daysInThisProgramPhase"`);
      expect(diff).toBe(0);

      // the same 30 rows again: already there, nothing inserted, nothing removed
      const again = await runTestInsert(ctx, { program: HOSTILE, rows: 30, keep: false });
      expect((again.data as TestInsertReport).copied).toBe(0);
      expect((again.data as TestInsertReport).removed).toBe(0);
      expect(await inNew()).toBe(30);
      // 50 rows: 20 new ones inserted and exactly those removed; the 30 kept ones stay
      const more = await runTestInsert(ctx, { program: HOSTILE, rows: 50, keep: false });
      expect((more.data as TestInsertReport).copied).toBe(20);
      expect((more.data as TestInsertReport).removed).toBe(20);
      expect((more.data as TestInsertReport).partitionedRows).toBe(50);
      expect(await inNew()).toBe(30);
      await ctx.client.query(`DELETE FROM petri_observations_partitioned WHERE program_id = $1`, [key]);
    } finally {
      await close();
    }
  });

  it('refuses an unknown program and changes nothing', async () => {
    const { ctx, close } = await engineContext(db.config);
    try {
      const r = await runTestInsert(ctx, { program: 'no such program', rows: 10, keep: false });
      expect(r.exitCode).toBe(1);
      expect(r.summary).toMatch(/no program with that key or label.*nothing was changed/);
    } finally {
      await close();
    }
  });

  it('after the migration (new table full) copies nothing and compares like with like', async () => {
    const { ctx, close } = await engineContext(db.config);
    try {
      const cols = `observation_id, program_id, seq_no, legacy_no, phase, tags, metadata, growth_index, "daysInThisProgramPhase", petri_code, observed_at, updated_at`;
      await ctx.client.query(`INSERT INTO petri_observations_partitioned (${cols}) OVERRIDING SYSTEM VALUE SELECT ${cols} FROM petri_observations`);
      await ctx.client.query(`ANALYZE petri_observations_partitioned`);
      // the journal shows the migration has started: the new table is migrate's, test-insert only compares
      await ctx.client.query(`INSERT INTO partwise.step_log (migration_id, step, status) SELECT id, 'migrate', 'done' FROM partwise.migration`);
      const r = await runTestInsert(ctx, { rows: 100, keep: false });
      expect(r.exitCode, r.summary).toBe(0);
      const report = r.data as TestInsertReport;
      expect(report.copied).toBe(0);
      expect(report.copySkipped).toMatch(/migration has started/);
      expect(report.partitionedRows).toBe(report.sourceRows);
      expect(report.notes[0]).toMatch(/like with like/);
      for (const c of report.comparisons) expect(c.headline).toMatch(/: (the same within noise|partitioned \d+\.\dx (faster|slower)) \(source vs partitioned: /);
      const sub = report.comparisons.find((c) => c.form === 'subquery')!;
      expect(sub.partitioned.scanned).toEqual([report.partition]);
      expect(sub.partitioned.neverExecuted).toHaveLength(6);
      expect(await count(ctx.client, `SELECT count(*) AS n FROM petri_observations_partitioned`)).toBe(20000);
    } finally {
      await close();
    }
  });
});

describe('the comparison headline', () => {
  const measure = (ms: number, buffers: number) => ({ executionMs: ms, sharedHit: buffers, sharedRead: 0, scanned: [], partitions: 1, prunedAtPlan: 0, neverExecuted: [] }) as unknown as PlanMeasure;
  const c = (source: number, partitioned: number) => ({ form: 'literal' as const, query: '', source: measure(source, 40), partitioned: measure(partitioned, 3), timeRatio: null, buffersRatio: null });

  it('gives no ratio for a sample, says "the same within noise" for small differences, and a ratio only beyond noise', () => {
    // the 1278.7x headline of a 100-row sample: no verdict
    expect(comparisonHeadline(c(12.79, 0.01), false)).toBe('literal key: no verdict yet, the partitioned side holds only a sample of the program (source vs partitioned: 12.79 ms vs 0.01 ms, 40 vs 3 buffers)');
    expect(comparisonHeadline(c(0.9, 0.05), true)).toMatch(/^literal key: the same within noise \(/);
    expect(comparisonHeadline(c(20, 17), true)).toMatch(/^literal key: the same within noise \(/);
    expect(comparisonHeadline(c(40, 10), true)).toMatch(/^literal key: partitioned 4\.0x faster \(source vs partitioned: 40\.00 ms vs 10\.00 ms/);
    expect(comparisonHeadline(c(5, 12), true)).toMatch(/^literal key: partitioned 2\.4x slower/);
  });
});

describe('reading a plan', () => {
  it('counts start-up pruning (Subplans Removed) and ignores relations of other tables', () => {
    const m = measurePlan(
      {
        'Execution Time': 1.5, 'Planning Time': 0.2,
        Plan: {
          'Node Type': 'Aggregate', 'Shared Hit Blocks': 12, 'Shared Read Blocks': 3, 'Actual Loops': 1,
          Plans: [
            { 'Node Type': 'Seq Scan', 'Relation Name': 'lookup', 'Actual Loops': 1 },
            {
              'Node Type': 'Append', 'Subplans Removed': 2, 'Actual Loops': 1,
              Plans: [
                { 'Node Type': 'Bitmap Heap Scan', 'Relation Name': 'p_a', 'Actual Loops': 1, Plans: [{ 'Node Type': 'Bitmap Index Scan', 'Actual Loops': 1 }] },
                { 'Node Type': 'Seq Scan', 'Relation Name': 'p_b', 'Actual Loops': 0 },
              ],
            },
          ],
        },
      },
      ['p_a', 'p_b', 'p_c', 'p_d', 'p_e'],
    );
    expect(m).toEqual({
      executionMs: 1.5, planningMs: 0.2, sharedHit: 12, sharedRead: 3, partitions: 5,
      scanned: ['p_a'], neverExecuted: ['p_b'], subplansRemoved: 2, prunedAtPlan: 1,
    });
  });
});
