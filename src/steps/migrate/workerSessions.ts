/**
 * The sessions of the copy workers (migrate --workers N): one each, with the timeouts of the run's own session, so a
 * batch on a worker is bounded as a batch on ctx.client is.
 */
import type pg from 'pg';
import { openSession } from '../../db/session.js';
import type { CopyRun } from './copyRun.js';

export async function openWorkerSessions(run: CopyRun, n: number): Promise<pg.Client[]> {
  const s = (await run.onMain(() => run.client.query<{ st: string; lt: string }>(`SELECT current_setting('statement_timeout') AS st, current_setting('lock_timeout') AS lt`))).rows[0]!;
  const sessions: pg.Client[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const c = await openSession(run.ctx.connection, { statementTimeoutMs: 0 });
      sessions.push(c);
      await c.query(`SELECT set_config('statement_timeout', $1, false), set_config('lock_timeout', $2, false)`, [s.st, s.lt]);
    }
  } catch (e) {
    await Promise.all(sessions.map((c) => c.end().catch(() => undefined)));
    throw e;
  }
  return sessions;
}
