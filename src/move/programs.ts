import type pg from 'pg';
import type { Snapshot } from '../catalog/types.js';
import type { Config } from '../config/config.js';
import { ident, qname } from '../db/quote.js';
import type { ProgramState } from '../events.js';

/** The programs a copy reports on: one per lookup row (creation order), then the keys without a lookup row. */
export interface ProgramEntry {
  /** key text; REST_PROGRAM for the keys without a lookup row */
  program: string;
  label: string | null;
  keys: string[];
  total: number;
  copied: number;
  state: ProgramState;
}

export const REST_PROGRAM = '(no lookup row)';

/** Rows per key: one GROUP BY at start (no statement timeout: it reads the whole table once). */
export async function countByKey(client: pg.ClientBase, cfg: Config): Promise<Map<string, number>> {
  await client.query('BEGIN READ ONLY');
  try {
    await client.query(`SELECT set_config('statement_timeout', '0', true)`);
    // one backend, no parallel workers: this runs beside the application, whose CPUs they would take
    await client.query(`SELECT set_config('max_parallel_workers_per_gather', '0', true)`);
    const r = await client.query<{ k: string; n: string }>(
      // grouped by the key itself, cast to text once per group (a cast per row made this count take 1.7x as long)
      `SELECT g.k::text AS k, g.n FROM (SELECT ${ident(cfg.key)} AS k, count(*)::int8 AS n FROM ONLY ${qname(cfg.schema, cfg.table)} WHERE ${ident(cfg.key)} IS NOT NULL GROUP BY 1) g`,
    );
    await client.query('COMMIT');
    return new Map(r.rows.map((x) => [x.k, Number(x.n)]));
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}

export function programList(snap: Snapshot, cfg: Config, totals: Map<string, number>, copiedByKey: Map<string, number>): ProgramEntry[] {
  const list: ProgramEntry[] = snap.lookupRows.map((r) => ({
    program: r.key, label: r.label, keys: [r.key], total: totals.get(r.key) ?? 0, copied: copiedByKey.get(r.key) ?? 0, state: 'waiting',
  }));
  const known = new Set(snap.lookupRows.map((r) => r.key));
  const restKeys = [...totals.keys()].filter((k) => !known.has(k)).sort();
  if (restKeys.length) {
    list.push({
      program: REST_PROGRAM, label: `keys without a ${cfg.lookup} row (default partition)`, keys: restKeys,
      total: restKeys.reduce((n, k) => n + (totals.get(k) ?? 0), 0), copied: restKeys.reduce((n, k) => n + (copiedByKey.get(k) ?? 0), 0), state: 'waiting',
    });
  }
  return list;
}

/** --program ID|LABEL: the key text, else the exact label, else the label ignoring case. */
export function findProgram(list: ProgramEntry[], wanted: string): ProgramEntry | string {
  const byKey = list.find((p) => p.program === wanted);
  if (byKey) return byKey;
  for (const same of [(a: string) => a === wanted, (a: string) => a.toLowerCase() === wanted.toLowerCase()]) {
    const hits = list.filter((p) => p.label !== null && same(p.label));
    if (hits.length === 1) return hits[0]!;
    if (hits.length > 1) return `--program ${wanted} matches ${hits.length} programs by label; give the key (${hits.map((h) => h.program).join(', ')})`;
  }
  return `--program ${wanted}: no program with that key or label`;
}
