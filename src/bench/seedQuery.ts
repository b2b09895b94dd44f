/**
 * Item 5: the first user's claim ("10-50x faster per-program queries"). The seed's comparison query
 * (sql/bench/seed_comparison.sql) on the original table and on the partitioned one, after the swap: EXPLAIN ANALYZE
 * execution time, one warm-up then the median of 10 each, for the largest program and for the smallest; and the
 * same query with the program's id as a literal, which the planner prunes while planning.
 */
import type pg from 'pg';
import type { Config } from '../config/config.js';
import { lit, qname } from '../db/quote.js';
import { sqlTemplate } from '../sqlFiles.js';
import { median } from '../stats.js';

export interface SeedQueryProgram {
  program: string;
  rows: number;
  sourceMs: number;
  partitionedMs: number;
  /** source / partitioned: above 1 the partitioned table is faster */
  ratio: number;
  /** the same with the program's id as a literal (sql/bench/seed_comparison_literal.sql) */
  literalSourceMs: number;
  literalPartitionedMs: number;
  literalRatio: number;
}

export function seedQuerySql(table: string, program: string): string {
  return sqlTemplate('bench/seed_comparison.sql', { table, program: lit(program) });
}

export function seedLiteralQuerySql(table: string, programId: string): string {
  return sqlTemplate('bench/seed_comparison_literal.sql', { table, program_id: lit(programId) });
}

/** One warm-up each, then `runs` interleaved pairs (both sides meet the same background load); the medians. */
async function comparePair(client: pg.ClientBase, sql: Record<'source' | 'partitioned', string>, runs: number): Promise<{ source: number; partitioned: number }> {
  const times: Record<'source' | 'partitioned', number[]> = { source: [], partitioned: [] };
  for (const side of ['source', 'partitioned'] as const) await executionMs(client, sql[side]);
  for (let i = 0; i < runs; i++) for (const side of ['source', 'partitioned'] as const) times[side].push(await executionMs(client, sql[side]));
  return { source: median(times.source), partitioned: median(times.partitioned) };
}

async function executionMs(client: pg.ClientBase, sql: string): Promise<number> {
  const r = await client.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`);
  const plan = r.rows[0]['QUERY PLAN'];
  return Number((typeof plan === 'string' ? JSON.parse(plan) : plan)[0]['Execution Time']);
}

/** `plain` and `partitioned` are the two tables after the swap (cfg.oldTable and cfg.table). */
export async function measureSeedQuery(client: pg.ClientBase, cfg: Config, runs = 10): Promise<SeedQueryProgram[]> {
  const sizes = await client.query<{ name: string; id: string; n: string }>(
    `SELECT l.name, l.program_id::text AS id, count(*)::int8 AS n FROM ${qname(cfg.schema, cfg.table)} o JOIN public.pilot_programs l USING (program_id) GROUP BY l.name, l.program_id ORDER BY 3 DESC, 1`,
  );
  const picks = [sizes.rows[0], sizes.rows[sizes.rows.length - 1]].filter((x, i, a): x is { name: string; id: string; n: string } => x !== undefined && a.indexOf(x) === i);
  const out: SeedQueryProgram[] = [];
  const tables = { source: qname(cfg.schema, cfg.oldTable), partitioned: qname(cfg.schema, cfg.table) };
  for (const p of picks) {
    const looked = await comparePair(client, { source: seedQuerySql(tables.source, p.name), partitioned: seedQuerySql(tables.partitioned, p.name) }, runs);
    const literal = await comparePair(client, { source: seedLiteralQuerySql(tables.source, p.id), partitioned: seedLiteralQuerySql(tables.partitioned, p.id) }, runs);
    out.push({
      program: p.name, rows: Number(p.n), sourceMs: looked.source, partitionedMs: looked.partitioned, ratio: looked.source / looked.partitioned,
      literalSourceMs: literal.source, literalPartitionedMs: literal.partitioned, literalRatio: literal.source / literal.partitioned,
    });
  }
  return out;
}
