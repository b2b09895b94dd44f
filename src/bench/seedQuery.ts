/**
 * Item 5: the first user's claim ("10-50x faster per-program queries"). The seed's comparison query
 * (sql/bench/seed_comparison.sql) on the original table and on the partitioned one, after the swap: EXPLAIN ANALYZE
 * execution time, one warm-up then the median of 10 each, for the largest program and for the smallest.
 */
import type pg from 'pg';
import type { Config } from '../config/config.js';
import { lit, qname } from '../db/quote.js';
import { sqlFile } from '../sqlFiles.js';
import { median } from './stats.js';

export interface SeedQueryProgram {
  program: string;
  rows: number;
  sourceMs: number;
  partitionedMs: number;
  /** source / partitioned: above 1 the partitioned table is faster */
  ratio: number;
}

export function seedQuerySql(table: string, program: string): string {
  const values: Record<string, string> = { table, program: lit(program) };
  return sqlFile('bench/seed_comparison.sql').replace(/\{\{(\w+)\}\}/g, (_, k: string) => values[k]!);
}

async function executionMs(client: pg.ClientBase, sql: string): Promise<number> {
  const r = await client.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`);
  const plan = r.rows[0]['QUERY PLAN'];
  return Number((typeof plan === 'string' ? JSON.parse(plan) : plan)[0]['Execution Time']);
}

/** `plain` and `partitioned` are the two tables after the swap (cfg.oldTable and cfg.table). */
export async function measureSeedQuery(client: pg.ClientBase, cfg: Config, runs = 10): Promise<SeedQueryProgram[]> {
  const sizes = await client.query<{ name: string; n: string }>(
    `SELECT l.name, count(*)::int8 AS n FROM ${qname(cfg.schema, cfg.table)} o JOIN public.pilot_programs l USING (program_id) GROUP BY l.name ORDER BY 2 DESC, 1`,
  );
  const picks = [sizes.rows[0], sizes.rows[sizes.rows.length - 1]].filter((x, i, a): x is { name: string; n: string } => x !== undefined && a.indexOf(x) === i);
  const out: SeedQueryProgram[] = [];
  for (const p of picks) {
    const times: Record<'source' | 'partitioned', number[]> = { source: [], partitioned: [] };
    const tables = { source: qname(cfg.schema, cfg.oldTable), partitioned: qname(cfg.schema, cfg.table) };
    for (const side of ['source', 'partitioned'] as const) await executionMs(client, seedQuerySql(tables[side], p.name));
    // interleaved, so that both sides meet the same background load
    for (let i = 0; i < runs; i++)
      for (const side of ['source', 'partitioned'] as const) times[side].push(await executionMs(client, seedQuerySql(tables[side], p.name)));
    const s = median(times.source);
    const t = median(times.partitioned);
    out.push({ program: p.name, rows: Number(p.n), sourceMs: s, partitionedMs: t, ratio: s / t });
  }
  return out;
}
