import pg from 'pg';
import { redact } from './connect.js';

/** Timeouts suited to a kind of step; DDL additionally gets lock_timeout. */
export interface SessionSettings {
  statementTimeoutMs: number;
  lockTimeoutMs?: number;
}

export const READ_SESSION: SessionSettings = { statementTimeoutMs: 60_000 };

export class ConnectError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'ConnectError';
  }
}

/**
 * Opens one session with application_name=partwise and the step's timeouts. Errors name the target
 * and the server's message, never the password.
 */
export async function openSession(config: pg.ClientConfig, settings: SessionSettings = READ_SESSION): Promise<pg.Client> {
  const client = new pg.Client({ ...config, application_name: 'partwise', connectionTimeoutMillis: 10_000 });
  // an idle session killed by the server must not crash the process
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (e) {
    const err = e as Error & { code?: string };
    await client.end().catch(() => undefined);
    const where = `${config.host ?? 'localhost'}:${config.port ?? 5432}`;
    let hint = 'check --url / DATABASE_URL / PGHOST and that the server is running';
    if (err.code === '28P01' || /password authentication failed/i.test(err.message)) hint = 'check the user name and password';
    else if (err.code === '3D000') hint = 'check the database name';
    else if (err.code === 'ECONNREFUSED') hint = `nothing is listening at ${where}; check host and port`;
    throw new ConnectError(`could not connect to ${where}: ${redact(err.message, config)}`, hint);
  }
  await applySettings(client, settings);
  return client;
}

export async function applySettings(client: pg.Client, s: SessionSettings): Promise<void> {
  await client.query(
    `SELECT set_config('statement_timeout', $1, false), set_config('lock_timeout', $2, false), set_config('idle_in_transaction_session_timeout', '600000', false)`,
    [`${s.statementTimeoutMs}ms`, `${s.lockTimeoutMs ?? 0}ms`],
  );
}

/**
 * A transaction-mode pooler (Supabase's port 6543, PgBouncer pool_mode=transaction) hands each transaction
 * to any server connection: session SET and advisory locks silently stop working. Detect and refuse.
 */
export async function detectTransactionPooler(client: pg.Client, port: number | undefined): Promise<string | null> {
  if (port === 6543) return 'port 6543 is Supabase\'s transaction-mode pooler';
  await client.query(`SELECT set_config('application_name', 'partwise', false)`);
  const pids = new Set<number>();
  for (let i = 0; i < 4; i++) {
    const r = await client.query<{ pid: number; app: string }>(
      `SELECT pg_backend_pid() AS pid, current_setting('application_name') AS app`,
    );
    pids.add(r.rows[0]!.pid);
    if (r.rows[0]!.app !== 'partwise') return 'a session setting did not survive to the next transaction';
  }
  if (pids.size > 1) return 'consecutive transactions ran on different server connections';
  return null;
}
