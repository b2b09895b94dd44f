import type pg from 'pg';
import type { Snapshot } from '../catalog/types.js';
import type { Config } from '../config/config.js';
import { ident, qname } from '../db/quote.js';
import type { ProgramState } from '../events.js';
import { withTransaction } from '../exec/transaction.js';
import { expectedListBound } from '../plan/listBound.js';

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

/**
 * The copy records rows counted for the keys without a lookup row as a whole under REST_PROGRAM (see
 * ProgressCount in copy.ts), unless some key is that very text: then it counts per key only.
 */
export function restMarkerFree(keys: Iterable<string>): boolean {
  for (const k of keys) if (k === REST_PROGRAM) return false;
  return true;
}

/** restMarkerFree over the lookup keys and the keys in the table: what migrate, programList and the partition map use. */
export function restMarkerUsable(snap: Snapshot, keys: Iterable<string>): boolean {
  return restMarkerFree(keys) && restMarkerFree(snap.lookupRows.map((r) => r.key));
}

/** An entry's copied rows from copy_progress (per key, and for the rest also under REST_PROGRAM). */
export function copiedOf(entry: Pick<ProgramEntry, 'program' | 'keys'>, copiedByProgram: ReadonlyMap<string, number>, markerFree: boolean): number {
  const perKey = entry.keys.reduce((n, k) => n + (copiedByProgram.get(k) ?? 0), 0);
  return perKey + (markerFree && entry.program === REST_PROGRAM ? copiedByProgram.get(REST_PROGRAM) ?? 0 : 0);
}

/**
 * The program each partition of the new table holds, when each holds one program's rows: every lookup key has its
 * own one-value partition (found by bound, docs/behaviours/list-bound-text.md), so the others (default, strays) hold
 * keys without a lookup row only. null otherwise (a lookup key without its partition sends its rows to the default,
 * which then mixes programs), or when REST_PROGRAM is itself a key: the copy then counts per key with RETURNING.
 */
export function partitionPrograms(snap: Snapshot, keyType: string, keys: Iterable<string>): Map<number, string> | null {
  const parts = snap.target?.partitions ?? [];
  // a sub-partitioned or foreign partition keeps no insert counts of its own for the rows it receives
  if (!parts.length || parts.some((p) => p.relkind !== 'r') || !restMarkerUsable(snap, keys)) return null;
  const byOid = new Map<number, string>();
  for (const r of snap.lookupRows) {
    const bound = expectedListBound(keyType, r.key);
    const part = parts.find((p) => p.bound === bound);
    if (!part || byOid.has(part.oid)) return null;
    byOid.set(part.oid, r.key);
  }
  for (const p of parts) if (!byOid.has(p.oid)) byOid.set(p.oid, REST_PROGRAM);
  return byOid;
}

/** Rows per key: one GROUP BY at start (no statement timeout: it reads the whole table once). */
export function countByKey(client: pg.ClientBase, cfg: Config): Promise<Map<string, number>> {
  // no statement timeout; one backend, no parallel workers: this runs beside the application, whose CPUs they would take
  const settings: Array<[string, string]> = [['statement_timeout', '0'], ['max_parallel_workers_per_gather', '0']];
  return withTransaction(client, { readOnly: true, settings }, async () => {
    const r = await client.query<{ k: string; n: string }>(
      // grouped by the key itself, cast to text once per group (a cast per row made this count take 1.7x as long)
      `SELECT g.k::text AS k, g.n FROM (SELECT ${ident(cfg.key)} AS k, count(*)::int8 AS n FROM ONLY ${qname(cfg.schema, cfg.table)} WHERE ${ident(cfg.key)} IS NOT NULL GROUP BY 1) g`,
    );
    return new Map(r.rows.map((x) => [x.k, Number(x.n)]));
  });
}

/** `copiedByProgram`: copy_progress, per key and for the rest as a whole under REST_PROGRAM (see copiedOf). */
export function programList(snap: Snapshot, cfg: Config, totals: Map<string, number>, copiedByProgram: Map<string, number>): ProgramEntry[] {
  const markerFree = restMarkerUsable(snap, totals.keys());
  const list: ProgramEntry[] = snap.lookupRows.map((r) => ({
    program: r.key, label: r.label, keys: [r.key], total: totals.get(r.key) ?? 0, copied: copiedByProgram.get(r.key) ?? 0, state: 'waiting',
  }));
  const known = new Set(snap.lookupRows.map((r) => r.key));
  const restKeys = [...totals.keys()].filter((k) => !known.has(k)).sort();
  if (restKeys.length) {
    list.push({
      program: REST_PROGRAM, label: `keys without a ${cfg.lookup} row (default partition)`, keys: restKeys,
      total: restKeys.reduce((n, k) => n + (totals.get(k) ?? 0), 0), copied: copiedOf({ program: REST_PROGRAM, keys: restKeys }, copiedByProgram, markerFree), state: 'waiting',
    });
  }
  return list;
}

/**
 * --program KEY|LABEL (or key:KEY, label:LABEL): the row whose key it is, else the one whose label it is (exactly, else
 * ignoring case). A value that is one row's key and another row's label is refused with both listed: silently
 * preferring the key would copy the wrong program. Returns the row, or why none is chosen.
 */
export function matchProgram<T>(rows: readonly T[], wanted: string, keyOf: (r: T) => string, labelOf: (r: T) => string | null): T | string {
  const describe = (r: T) => `key ${keyOf(r)}${labelOf(r) !== null ? ` (label "${labelOf(r)}")` : ''}`;
  const byLabel = (text: string) => {
    const exact = rows.filter((r) => labelOf(r) === text);
    return exact.length ? exact : rows.filter((r) => labelOf(r)?.toLowerCase() === text.toLowerCase());
  };
  const prefixed = /^(key|label):([\s\S]*)$/.exec(wanted);
  if (prefixed && !rows.some((r) => keyOf(r) === wanted)) {
    const [, kind, text] = prefixed;
    const hits = kind === 'key' ? rows.filter((r) => keyOf(r) === text) : byLabel(text!);
    if (hits.length === 1) return hits[0]!;
    if (hits.length > 1) return `--program ${wanted} matches ${hits.length} programs: ${hits.map(describe).join(', ')}; give the key (--program key:KEY)`;
    return `--program ${wanted}: no program with that ${kind}`;
  }
  const byKey = rows.find((r) => keyOf(r) === wanted);
  const labelled = byLabel(wanted).filter((r) => r !== byKey);
  if (byKey && labelled.length)
    return `--program ${wanted} is ambiguous: it is the key of one program and the label of another: ${[byKey, ...labelled].map(describe).join(', ')}; say which with --program key:${wanted} or --program label:${wanted}`;
  if (byKey) return byKey;
  if (labelled.length === 1) return labelled[0]!;
  if (labelled.length > 1) return `--program ${wanted} matches ${labelled.length} programs by label: ${labelled.map(describe).join(', ')}; give the key (--program key:KEY)`;
  return `--program ${wanted}: no program with that key or label`;
}

/** --program for migrate: see matchProgram. */
export function findProgram(list: ProgramEntry[], wanted: string): ProgramEntry | string {
  return matchProgram(list, wanted, (p) => p.program, (p) => p.label);
}
