/**
 * One partwise process copies a table at a time. The lease is a row (partwise.run_lease), never a session advisory
 * lock: a lock held by a session stays on whatever server connection a pooler gave it, and can outlive the process.
 * A heartbeat session of its own renews the row every few seconds, so a long statement of the copy never lets it
 * expire; a lease is free once it has expired or once its heartbeat's server process is gone (the holder was killed).
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type pg from 'pg';
import { openSession } from '../db/session.js';
import { sleep } from './progress.js';

const TTL_SECONDS = 30;
const HEARTBEAT_MS = 5_000;

export interface LeaseHolder {
  holder: string;
  backendPid: number;
  acquiredAt: Date;
}

export interface RunLease {
  /** why the lease is no longer held (its heartbeat failed, or it expired and another process took it), or null */
  lost(): string | null;
  release(): Promise<void>;
}

/** Free when expired, or when the holder's heartbeat backend is gone (a backend_start we cannot see counts as alive). */
const STALE = `(l.expires_at < now() OR NOT EXISTS (
  SELECT 1 FROM pg_stat_activity a WHERE a.pid = l.backend_pid AND (a.backend_start IS NULL OR a.backend_start IS NOT DISTINCT FROM l.backend_start)))`;

const ACQUIRE = `
INSERT INTO partwise.run_lease AS l (migration_id, token, holder, backend_pid, backend_start, expires_at)
SELECT $1, $2, $3, pg_backend_pid(), (SELECT backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()), now() + make_interval(secs => $4)
ON CONFLICT (migration_id) DO UPDATE
   SET token = EXCLUDED.token, holder = EXCLUDED.holder, backend_pid = EXCLUDED.backend_pid, backend_start = EXCLUDED.backend_start,
       acquired_at = now(), expires_at = EXCLUDED.expires_at
 WHERE ${STALE}
RETURNING token`;

/** The process holding the copy's lease now, or null. */
export async function leaseHolder(client: pg.ClientBase, migrationId: number): Promise<LeaseHolder | null> {
  const exists = await client.query(`SELECT to_regclass('partwise.run_lease') IS NOT NULL AS ok`);
  if (!exists.rows[0].ok) return null;
  const r = await client.query<{ holder: string; backend_pid: number; acquired_at: Date }>(
    `SELECT holder, backend_pid, acquired_at FROM partwise.run_lease l WHERE migration_id = $1 AND NOT ${STALE}`,
    [migrationId],
  );
  const row = r.rows[0];
  return row ? { holder: row.holder, backendPid: row.backend_pid, acquiredAt: row.acquired_at } : null;
}

/**
 * Takes the copy's lease for this migration, waiting a few seconds for a killed predecessor's session to go away.
 * Returns the lease, or who holds it.
 */
export async function acquireRunLease(connection: pg.ClientConfig, migrationId: number, signal?: AbortSignal): Promise<RunLease | LeaseHolder> {
  const beat = await openSession(connection, { statementTimeoutMs: 10_000 });
  const token = randomUUID();
  try {
    let got = false;
    for (let i = 0; i < 6 && !got; i++) {
      if (i > 0) await sleep(500, signal);
      got = ((await beat.query(ACQUIRE, [migrationId, token, `${hostname()} pid ${process.pid}`, TTL_SECONDS])).rowCount ?? 0) > 0;
      if (signal?.aborted) break;
    }
    if (!got) {
      const holder = await leaseHolder(beat, migrationId);
      await beat.end().catch(() => undefined);
      return holder ?? { holder: 'another partwise process', backendPid: -1, acquiredAt: new Date() };
    }
  } catch (e) {
    await beat.end().catch(() => undefined);
    throw e;
  }
  let lost: string | null = null;
  let renewing: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    renewing = beat
      .query(`UPDATE partwise.run_lease SET expires_at = now() + make_interval(secs => $3) WHERE migration_id = $1 AND token = $2`, [migrationId, token, TTL_SECONDS])
      .then((r) => {
        if (!r.rowCount) lost ??= 'another partwise migrate took over the copy after this one missed its heartbeat';
      })
      .catch((e: Error) => {
        lost ??= `its heartbeat session failed (${e.message})`;
      });
  }, HEARTBEAT_MS);
  timer.unref();
  return {
    lost: () => lost,
    async release() {
      clearInterval(timer);
      await renewing;
      await beat.query(`DELETE FROM partwise.run_lease WHERE migration_id = $1 AND token = $2`, [migrationId, token]).catch(() => undefined);
      await beat.end().catch(() => undefined);
    },
  };
}

export function isLease(x: RunLease | LeaseHolder): x is RunLease {
  return 'release' in x;
}
