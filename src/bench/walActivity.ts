/**
 * What the copy's WAL does to the server: the WAL it writes and the checkpoints that volume requests. Each requested
 * checkpoint ends in a burst of writes and fsyncs, and every page touched first after it is logged whole: that is
 * when the application's commits slow down (issue 5, item 2; `partwise check` reports the same arithmetic).
 */
import type pg from 'pg';

export interface WalMark {
  lsn: string;
  requestedCheckpoints: number;
}

export async function walMark(client: pg.ClientBase): Promise<WalMark> {
  const v = Number((await client.query<{ v: string }>(`SELECT current_setting('server_version_num') AS v`)).rows[0]!.v);
  // PostgreSQL 17 moved the checkpoint counters from pg_stat_bgwriter to pg_stat_checkpointer
  const counter = v >= 170000 ? `(SELECT num_requested FROM pg_stat_checkpointer)` : `(SELECT checkpoints_req FROM pg_stat_bgwriter)`;
  const r = await client.query<{ lsn: string; n: string }>(`SELECT pg_current_wal_lsn()::text AS lsn, ${counter}::int8 AS n`);
  return { lsn: r.rows[0]!.lsn, requestedCheckpoints: Number(r.rows[0]!.n) };
}

export interface WalActivity {
  walBytes: number;
  requestedCheckpoints: number;
  maxWalSize: string;
}

export async function walSince(client: pg.ClientBase, from: WalMark): Promise<WalActivity> {
  const to = await walMark(client);
  const r = await client.query<{ bytes: string; max: string }>(
    `SELECT pg_wal_lsn_diff($1::pg_lsn, $2::pg_lsn)::int8 AS bytes, current_setting('max_wal_size') AS max`,
    [to.lsn, from.lsn],
  );
  return { walBytes: Number(r.rows[0]!.bytes), requestedCheckpoints: to.requestedCheckpoints - from.requestedCheckpoints, maxWalSize: r.rows[0]!.max };
}
