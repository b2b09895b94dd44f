/**
 * How a copy batch counts what it inserted per program, for the progress bars (ProgressCount in copy.ts says which
 * and why). One counter per batch: begin before the inserts, restart after a rollback to the batch's savepoint, add
 * each statement's result, finish once.
 */
import type pg from 'pg';
import type { ProgressCount } from './copy.js';

export interface BatchCount {
  /** rows inserted per program (see BatchResult.copiedByProgram) */
  copiedByProgram: Map<string, number>;
  copied: number;
  /** a `partition` count did not add up to the rows inserted: copiedByProgram is left empty */
  countMismatch: boolean;
}

export interface BatchCounter {
  /** whether the statements must return rows per key (RETURNING) */
  readonly returning: boolean;
  begin(): Promise<void>;
  /** the inserts so far were rolled back (the batch's savepoint): count from here */
  restart(): Promise<void>;
  add(r: pg.QueryResult<{ k: string; n: string }>): void;
  finish(): Promise<BatchCount>;
}

/** Rows this transaction (subtransactions included) has inserted into each partition so far. */
async function insertedByPartition(client: pg.ClientBase, oids: number[]): Promise<Map<number, number>> {
  const r = await client.query<{ oid: string; n: string }>(
    `SELECT p.oid::int8 AS oid, pg_catalog.pg_stat_get_xact_tuples_inserted(p.oid) AS n FROM unnest($1::oid[]) AS p(oid)`,
    [oids],
  );
  return new Map(r.rows.map((x) => [Number(x.oid), Number(x.n)]));
}

export function batchCounter(client: pg.ClientBase, count: ProgressCount): BatchCounter {
  const copiedByProgram = new Map<string, number>();
  const add = (program: string, n: number) => {
    if (n > 0) copiedByProgram.set(program, (copiedByProgram.get(program) ?? 0) + n);
  };
  let counted: Array<{ k: string; n: string }> = [];
  let inserted = 0;
  const oids = count.by === 'partition' ? [...count.programOf.keys()] : [];
  let before: Map<number, number> | null = null;
  return {
    returning: count.by === 'returning',
    async begin() {
      if (count.by === 'partition') before = await insertedByPartition(client, oids);
    },
    async restart() {
      counted = [];
      inserted = 0;
      // the statistics keep counting the rolled-back inserts: count from here
      if (count.by === 'partition') before = await insertedByPartition(client, oids);
    },
    add(r) {
      if (count.by === 'returning') counted.push(...r.rows);
      else inserted += r.rowCount ?? 0;
    },
    async finish() {
      if (count.by === 'returning') {
        for (const x of counted) add(x.k, Number(x.n));
        return { copiedByProgram, copied: counted.reduce((n, x) => n + Number(x.n), 0), countMismatch: false };
      }
      if (count.by === 'scope') {
        add(count.program, inserted);
        return { copiedByProgram, copied: inserted, countMismatch: false };
      }
      const after = await insertedByPartition(client, oids);
      let sum = 0;
      for (const [oid, n] of after) {
        const d = n - (before!.get(oid) ?? 0);
        add(count.programOf.get(oid)!, d);
        sum += d;
      }
      if (sum === inserted) return { copiedByProgram, copied: inserted, countMismatch: false };
      copiedByProgram.clear();
      return { copiedByProgram, copied: inserted, countMismatch: true };
    },
  };
}
