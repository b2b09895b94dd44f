/**
 * The transaction-and-retry core (src/exec/transaction.ts, src/exec/retry.ts): settings are local to the transaction,
 * an error rolls everything back and keeps the server's code, alwaysRollback keeps nothing, and a lock that never
 * frees gives up after the policy's attempts with the holder named and nothing changed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import type { EngineEvent } from '../src/events.js';
import { lockedTransaction, TransactionFailed } from '../src/exec/retry.js';
import { withTransaction } from '../src/exec/transaction.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { connect } from './helpers/moveSetup.js';

describe('withTransaction and lockedTransaction', () => {
  let db: TestDatabase;
  let client: pg.Client;
  beforeAll(async () => {
    db = await createTestDatabase('pw_test_transaction');
    client = await connect(db.config);
    await client.query(`CREATE TABLE public.t (id int PRIMARY KEY)`);
  });
  afterAll(async () => {
    await client?.end();
    await db?.drop();
  });

  it('applies its settings for the transaction only and commits', async () => {
    const settingsNow = `SELECT current_setting('lock_timeout') AS l, current_setting('synchronous_commit') AS s`;
    const before = (await client.query(settingsNow)).rows[0];
    const seen = await withTransaction(client, { lazyCommit: true, settings: [['lock_timeout', '1234ms'], ['search_path', 'pg_catalog, pg_temp']] }, async () => {
      await client.query(`INSERT INTO public.t VALUES (1)`);
      return (await client.query(`SELECT current_setting('lock_timeout') AS l, current_setting('search_path') AS p, current_setting('synchronous_commit') AS s`)).rows[0];
    });
    expect(seen).toEqual({ l: '1234ms', p: 'pg_catalog, pg_temp', s: 'off' });
    expect((await client.query(settingsNow)).rows[0]).toEqual(before);
    expect((await client.query(`SELECT count(*)::int AS n FROM public.t WHERE id = 1`)).rows[0].n).toBe(1);
  });

  it('rolls back on error and rethrows the server error as it came; alwaysRollback keeps nothing', async () => {
    const err = await withTransaction(client, {}, async () => {
      await client.query(`INSERT INTO public.t VALUES (2)`);
      await client.query(`INSERT INTO public.t VALUES (1)`);
    }).catch((e) => e);
    expect(err.code).toBe('23505');
    await withTransaction(client, { alwaysRollback: true }, () => client.query(`INSERT INTO public.t VALUES (3)`));
    expect((await client.query(`SELECT array_agg(id ORDER BY id) AS ids FROM public.t`)).rows[0].ids).toEqual([1]);
    expect((await client.query(`SELECT 1 AS one`)).rows[0].one).toBe(1); // the session is usable: no transaction left open
  });

  it('retries a lock timeout with the holder reported, then gives up having changed nothing', async () => {
    const holder = await connect(db.config);
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE public.t IN ACCESS EXCLUSIVE MODE');
    const events: EngineEvent[] = [];
    try {
      const err = await lockedTransaction(
        client, { policy: { lockTimeoutMs: 50, attempts: 3, baseDelayMs: 1, maxDelayMs: 2 }, emit: (e) => events.push(e), step: 'probe', relations: ['public.t'] },
        (exec) => exec(`INSERT INTO public.t VALUES (4)`),
      ).catch((e) => e);
      expect(err).toBeInstanceOf(TransactionFailed);
      expect(err.exhausted).toBe(true);
      expect(err.attempts).toBe(3);
      expect(err.statement).toBe(`INSERT INTO public.t VALUES (4)`);
      expect(err.blockers.map((b: { pid: number }) => b.pid)).toEqual([(holder as pg.Client & { processID: number }).processID]);
      const retries = events.filter((e) => e.type === 'step.retry');
      expect(retries).toHaveLength(2);
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
    expect((await client.query(`SELECT array_agg(id ORDER BY id) AS ids FROM public.t`)).rows[0].ids).toEqual([1]);
  });
});
