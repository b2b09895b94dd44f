/**
 * Where a copy's time goes: a session of its own samples, every 50 ms, what each of partwise's copying sessions is
 * doing (pg_stat_activity): running on a CPU (active, no wait event), waiting on a named event (WAL insert locks,
 * relation extension, I/O, a lock), or idle between statements (the client's turn: round trips, sleeps, Node). The
 * share of samples per state is an estimate of each one's share of the copy's session time.
 */
import type pg from 'pg';
import { openSession } from '../db/session.js';

export type WaitProfile = Map<string, number>;

export interface WaitSampler {
  stop(): Promise<WaitProfile>;
}

/** Samples the sessions named partwise except `excludePids` (a coordinator that only replays and reports). */
export async function startWaitSampler(config: pg.ClientConfig, excludePids: number[] = []): Promise<WaitSampler> {
  const s = await openSession(config, { statementTimeoutMs: 10_000 });
  await s.query(`SELECT set_config('application_name', 'partwise bench sampler', false)`);
  const counts: WaitProfile = new Map();
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const r = await s.query<{ w: string }>(
        `SELECT CASE WHEN state = 'active' THEN COALESCE(wait_event_type || ':' || wait_event, 'CPU')
                     WHEN state = 'idle in transaction' THEN 'client, inside a batch' ELSE 'client, between batches' END AS w
           FROM pg_catalog.pg_stat_activity
          WHERE application_name = 'partwise' AND backend_type = 'client backend' AND pid <> pg_backend_pid() AND pid <> ALL($1::int[])
            -- the run lease's heartbeat and the latency guard's probe are partwise's too, but idle by design
            AND query NOT LIKE '%partwise.run_lease%' AND query NOT LIKE '%partwise.latency_probe%'`,
        [excludePids],
      );
      for (const x of r.rows) counts.set(x.w, (counts.get(x.w) ?? 0) + 1);
      await new Promise((res) => setTimeout(res, 50));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop.catch(() => undefined);
      await s.end().catch(() => undefined);
      return counts;
    },
  };
}

/** "CPU 61%, LWLock:WALInsert 12%, …", largest first; shares under 2 % summed as "other". */
export function profileText(p: WaitProfile): string {
  const total = [...p.values()].reduce((a, b) => a + b, 0);
  if (!total) return 'no samples';
  const parts = [...p.entries()].sort((a, b) => b[1] - a[1]);
  const shown = parts.filter(([, n]) => n / total >= 0.02).map(([k, n]) => `${k} ${Math.round((n / total) * 100)}%`);
  const other = parts.filter(([, n]) => n / total < 0.02).reduce((a, [, n]) => a + n, 0);
  return [...shown, ...(other ? [`other ${Math.round((other / total) * 100)}%`] : [])].join(', ') + ` (${total} samples)`;
}
