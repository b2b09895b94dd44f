import type pg from 'pg';
import { describeTarget, resolveConnection, type ConnectionSource } from '../db/connect.js';
import { applySettings, connectPlain, detectTransactionPooler, type SessionSettings } from '../db/session.js';
import type { Emit } from '../events.js';

export const DEMO_DATABASE = 'partwise_demo';

export interface Connected {
  client: pg.Client;
  config: pg.ClientConfig;
  source: ConnectionSource;
  poolerProblem: string | null;
  version: string;
  /** ends the session; the embedded rehearsal server keeps running for other processes (`partwise demo stop`) */
  close(): Promise<void>;
}

export interface DemoOptions {
  rows: number;
  programs: number;
  reset: boolean;
}

/**
 * Resolves the connection (--url, DATABASE_URL, libpq environment, else embedded), checks for a transaction-mode
 * pooler before anything is set, then gives the session application_name=partwise and the step's timeouts. Through
 * a transaction pooler nothing is set: only check runs there (to say so), every other command refuses.
 */
export async function connectForCommand(urlFlag: string | undefined, settings: SessionSettings, demo: DemoOptions, emit: Emit): Promise<Connected> {
  const target = resolveConnection(urlFlag);
  let config = target.config;
  if (target.source === 'embedded') {
    const { defaultEmbeddedDir, startEmbedded } = await import('../db/embedded.js');
    emit({ type: 'info', message: `no connection given: using the embedded rehearsal database (PostgreSQL 17) in ${defaultEmbeddedDir()}…` });
    const server = await startEmbedded({ persistent: true, database: DEMO_DATABASE });
    if (server.started) {
      emit({ type: 'info', message: `started it on ${server.config.host}:${server.config.port}; it keeps running for other partwise processes (watch, headless commands) until partwise demo stop` });
    }
    config = server.config;
  }
  const client = await connectPlain(config);
  try {
    const poolerProblem = target.source === 'embedded' ? null : await detectTransactionPooler(client, config);
    if (!poolerProblem) await applySettings(client, settings);
    if (target.source === 'embedded') await ensureDemo(client, demo, emit);
    const version = (await client.query<{ v: string }>(`SELECT current_setting('server_version') AS v`)).rows[0]!.v;
    emit({ type: 'connected', target: describeTarget(config), version, embedded: target.source === 'embedded' });
    return {
      client, config, source: target.source, poolerProblem, version,
      async close() {
        await client.end().catch(() => undefined);
      },
    };
  } catch (e) {
    await client.end().catch(() => undefined);
    throw e;
  }
}

async function ensureDemo(client: pg.Client, demo: DemoOptions, emit: Emit): Promise<void> {
  const { seedDemo, isDemoSeeded } = await import('../demo/seedDemo.js');
  if (!demo.reset && (await isDemoSeeded(client))) return;
  await client.query(`SELECT set_config('statement_timeout', '0', false)`);
  // two processes starting on a fresh rehearsal database seed it once
  await client.query(`SELECT pg_advisory_lock(hashtext('partwise demo'), 0)`);
  try {
    // the other process may have seeded it while this one waited
    if (!demo.reset && (await isDemoSeeded(client))) return;
    emit({ type: 'info', message: `seeding the demo dataset: ${demo.rows.toLocaleString('en-US')} rows in ${demo.programs} programs…` });
    await seedDemo(client, { rows: demo.rows, programs: demo.programs, reset: demo.reset });
  } finally {
    await client.query(`SELECT pg_advisory_unlock(hashtext('partwise demo'), 0)`);
    await client.query(`SELECT set_config('statement_timeout', '60s', false)`);
  }
}
