import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { createTestDatabase, withClient, type TestDatabase } from './helpers/db.js';
import { engineContext, fixture } from './helpers/engine.js';
import { runCreate } from '../src/steps/create.js';
import { runMonitor } from '../src/steps/monitor.js';
import { exactRowCount, readPartitionSizes, type PartitionSizes } from '../src/monitor/partitionSizes.js';
import { partitionSizeLines } from '../src/monitor/sizeTable.js';
import { createPrinter } from '../src/cli/printer.js';
import type { ConfigInput } from '../src/config/config.js';

/** An integer-keyed table (bounds print bare) with n programs whose labels carry quotes. */
function intKeySchema(schema: string, n: number): string {
  return `
    CREATE SCHEMA ${schema};
    CREATE TABLE ${schema}.programs (program_id int PRIMARY KEY, name text NOT NULL);
    INSERT INTO ${schema}.programs SELECT g, 'Prog ' || g || ' O''Brien "x"' FROM generate_series(1, ${n}) g;
    CREATE TABLE ${schema}.obs (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, program_id int NOT NULL, payload text);
    CREATE INDEX obs_program ON ${schema}.obs (program_id);`;
}

const intKeyConfig = (schema: string): ConfigInput => ({
  schema, table: 'obs', key: 'program_id', lookup: 'programs', lookupKey: 'program_id', lookupLabel: 'name',
  partitionName: 'obs_p{key}', defaultPartition: 'obs_default',
});

/** Counts the statements a client sends while fn runs. */
async function countQueries<T>(client: pg.Client, fn: () => Promise<T>): Promise<{ result: T; queries: number }> {
  const original = client.query.bind(client) as (...args: unknown[]) => unknown;
  let queries = 0;
  (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    queries++;
    return original(...args);
  };
  try {
    return { result: await fn(), queries };
  } finally {
    (client as unknown as { query: unknown }).query = original;
  }
}

const byName = (s: PartitionSizes, name: string) => s.rows.find((r) => r.name === name)!;

describe('the monitor reads partition sizes in one query', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('pw_test_monitor');
    await withClient(db.config, (c) => c.query(intKeySchema('m2', 2) + intKeySchema('m3', 2) + intKeySchema('m50', 50)));
  });
  afterAll(async () => db?.drop());

  it.each([
    ['m2', 2],
    ['m50', 50],
  ])('%s: one round trip for %i partitions plus default, every label joined by bound', async (schema, n) => {
    const { ctx, close } = await engineContext(db.config, intKeyConfig(schema));
    try {
      expect((await runCreate(ctx)).exitCode).toBe(0);
      const { result: sizes, queries } = await countQueries(ctx.client, () => readPartitionSizes(ctx.client, ctx.cfg));
      expect(queries).toBe(1);
      expect(sizes.table).toBe(`${schema}.obs_partitioned`);
      expect(sizes.rows).toHaveLength(n + 1);
      expect(sizes.totals.partitions).toBe(n + 1);
      for (let i = 1; i <= n; i++) {
        const p = byName(sizes, `obs_p${i}`);
        expect(p.bound).toBe(`FOR VALUES IN (${i})`);
        expect(p.keyValue).toBe(String(i));
        expect(p.label).toBe(`Prog ${i} O'Brien "x"`);
        expect(p.isDefault).toBe(false);
        expect(p.hasRows).toBeNull();
      }
      const def = byName(sizes, 'obs_default');
      expect(def).toMatchObject({ isDefault: true, bound: 'DEFAULT', label: null, keyValue: null, hasRows: false });
      expect(sizes.defaultHasRows).toBe(false);
      // a partitioned table's parent holds nothing itself: the totals are the sum over the leaves
      // (docs/behaviours/count-only-parent-is-zero.md)
      expect(sizes.totals.totalBytes).toBe(sizes.rows.reduce((a, r) => a + r.totalBytes, 0));
      expect(sizes.totals.totalBytes).toBeGreaterThan(0); // the primary key's index exists on every leaf, even empty
    } finally {
      await close();
    }
  });

  it('sizes and estimates grow after rows are inserted and the partition is analyzed', async () => {
    const { ctx, close } = await engineContext(db.config, intKeyConfig('m2'));
    try {
      const before = await readPartitionSizes(ctx.client, ctx.cfg);
      const p1Before = byName(before, 'obs_p1');
      // never analyzed (reltuples = -1 on PG14+) but empty: no pages is no rows
      expect(p1Before.analyzedRows).toBeNull();
      expect(p1Before.estimatedRows).toBe(0);
      expect(before.totals.neverAnalyzed).toBe(0);
      await ctx.client.query(`INSERT INTO m2.obs_partitioned (program_id, payload) SELECT 1, repeat('x', 200) FROM generate_series(1, 5000)`);
      await ctx.client.query(`ANALYZE m2.obs_partitioned`);
      const after = await readPartitionSizes(ctx.client, ctx.cfg);
      const p1 = byName(after, 'obs_p1');
      expect(p1.estimatedRows).toBe(5000);
      expect(p1.tableBytes).toBeGreaterThan(p1Before.tableBytes + 5000 * 200);
      expect(p1.indexBytes).toBeGreaterThan(p1Before.indexBytes);
      expect(p1.totalBytes).toBeGreaterThanOrEqual(p1.tableBytes + p1.indexBytes);
      expect(p1.lastAnalyze).toBeInstanceOf(Date);
      expect(byName(after, 'obs_p2').estimatedRows).toBe(0);
      expect(after.totals.estimatedRows).toBe(5000);
      expect(after.totals.totalBytes).toBeGreaterThan(before.totals.totalBytes);
      // sorted by total size: the filled partition first
      expect(after.rows[0]!.name).toBe('obs_p1');
      expect(p1.share).toBeGreaterThan(0.5);
      expect(await exactRowCount(ctx.client, 'm2', 'obs_p1')).toBe(5000);
    } finally {
      await close();
    }
  });

  it('the row estimate follows the rows copied since the last analyze (stale reltuples scaled to the pages now)', async () => {
    const { ctx, close } = await engineContext(db.config, intKeyConfig('m3'));
    try {
      expect((await runCreate(ctx)).exitCode).toBe(0);
      // autovacuum must not analyze in between: the point is what the monitor shows while reltuples is stale
      await ctx.client.query(`ALTER TABLE m3.obs_p1 SET (autovacuum_enabled = false); ALTER TABLE m3.obs_p2 SET (autovacuum_enabled = false)`);
      const fill = (key: number, n: number) =>
        ctx.client.query(`INSERT INTO m3.obs_partitioned (program_id, payload) SELECT $1, repeat('x', 200) FROM generate_series(1, $2)`, [key, n]);
      // filled, never analyzed: there is no density to scale, so no number rather than a wrong one
      await fill(2, 100);
      expect(byName(await readPartitionSizes(ctx.client, ctx.cfg), 'obs_p2').estimatedRows).toBeNull();
      await fill(1, 2000);
      await ctx.client.query(`ANALYZE m3.obs_p1`);
      await fill(1, 18_000);
      const sizes = await readPartitionSizes(ctx.client, ctx.cfg);
      const p1 = byName(sizes, 'obs_p1');
      expect(p1.analyzedRows).toBe(2000); // what reltuples says: the count at the analyze
      expect(Math.abs(p1.estimatedRows! - 20_000)).toBeLessThan(20_000 * 0.05);
      expect(sizes.totals.neverAnalyzed).toBe(1);
      const lines = partitionSizeLines(sizes).map((l) => l.text);
      expect(lines.find((l) => l.startsWith('obs_p2'))).toMatch(/unknown/);
      expect(lines.find((l) => l.startsWith('total'))).toMatch(/\+1 unknown/);
    } finally {
      await close();
    }
  });

  it('flags the default partition when it holds rows, with the maintain hint, headless and in JSON', async () => {
    const { ctx, close } = await engineContext(db.config, intKeyConfig('m2'));
    try {
      await ctx.client.query(`INSERT INTO m2.obs_partitioned (program_id, payload) VALUES (999, 'no partition for me')`);
      const sizes = await readPartitionSizes(ctx.client, ctx.cfg);
      expect(byName(sizes, 'obs_default').hasRows).toBe(true);
      expect(sizes.defaultHasRows).toBe(true);

      const lines: string[] = [];
      const printer = createPrinter({ json: false, color: false, out: (l) => lines.push(l) });
      const ctxPrint = { ...ctx, emit: printer.emit };
      const r = await runMonitor(ctxPrint);
      expect(r.exitCode).toBe(0);
      expect(r.summary).toMatch(/partwise maintain/);
      const defaultLine = lines.find((l) => l.startsWith('obs_default'))!;
      expect(defaultLine).toMatch(/^obs_default \(!\)/);
      expect(lines.some((l) => /partwise maintain --yes/.test(l))).toBe(true);
      expect(lines.some((l) => /^total \(3\)/.test(l))).toBe(true);
      expect(lines.some((l) => l.includes(`Prog 1 O'Brien "x"`))).toBe(true);
      // aligned: header and rows share column positions
      const header = lines.find((l) => l.startsWith('partition'))!;
      const p1 = lines.find((l) => l.startsWith('obs_p1'))!;
      expect(p1.indexOf('Prog 1')).toBe(header.indexOf('program'));

      const json: string[] = [];
      const jsonPrinter = createPrinter({ json: true, color: false, out: (l) => json.push(l) });
      const rj = await runMonitor({ ...ctx, emit: jsonPrinter.emit }, { print: false });
      expect(json).toEqual([]); // --json: the rows come once, as the result's data
      const data = JSON.parse(JSON.stringify(rj.data)) as PartitionSizes;
      expect(data.rows.find((x) => x.isDefault)!.hasRows).toBe(true);
    } finally {
      await close();
    }
  });

  it('reports that there is nothing to monitor before create', async () => {
    const { ctx, close } = await engineContext(db.config, { ...intKeyConfig('m2'), newTable: 'not_created_yet' });
    try {
      const r = await runMonitor(ctx, { print: false });
      expect(r.exitCode).toBe(1);
      expect(r.summary).toMatch(/run partwise create/);
      expect(partitionSizeLines(r.data as PartitionSizes)[0]!.text).toMatch(/neither the table nor its partitioned copy is a partitioned table/);
    } finally {
      await close();
    }
  });
});

describe('labels with quotes and text keys', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('pw_test_monitor_text');
    await withClient(db.config, (c) => c.query(fixture('text-key.sql')));
  });
  afterAll(async () => db?.drop());

  it('joins each partition to its own label, hostile ones included', async () => {
    const cfg: ConfigInput = {
      schema: 'Shop', table: 'Sales', key: 'RegionCode', lookup: 'Regions', lookupKey: 'RegionCode', lookupLabel: 'Label',
      partitionName: 'sales_{key}', defaultPartition: 'sales_default',
    };
    const { ctx, close } = await engineContext(db.config, cfg);
    try {
      expect((await runCreate(ctx)).exitCode).toBe(0);
      const sizes = await readPartitionSizes(ctx.client, ctx.cfg);
      const label = (bound: string) => sizes.rows.find((r) => r.bound === bound)?.label;
      expect(label(`FOR VALUES IN ('north')`)).toBe('North; DROP TABLE "Shop"."Regions"; --');
      expect(label(`FOR VALUES IN ('a-b')`)).toBe(`O'Brien "SE"`);
      expect(label(`FOR VALUES IN ('a_b')`)).toBe('a_b');
      expect(sizes.rows.find((r) => r.bound === `FOR VALUES IN ('a-b')`)!.keyValue).toBe('a-b');
      // a lookup whose label column does not exist still gives the sizes, without labels
      const { ctx: noLabel, close: close2 } = await engineContext(db.config, { ...cfg, lookupLabel: 'NoSuchColumn' });
      try {
        const s2 = await readPartitionSizes(noLabel.client, noLabel.cfg);
        expect(s2.rows).toHaveLength(4);
        expect(s2.rows.every((r) => r.label === null)).toBe(true);
        expect(s2.rows.filter((r) => r.keyValue !== null)).toHaveLength(3);
      } finally {
        await close2();
      }
    } finally {
      await close();
    }
  });
});
