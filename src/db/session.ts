import pg from 'pg';
import { redact } from './connect.js';

/** Timeouts suited to a kind of step; DDL additionally gets lock_timeout. */
export interface SessionSettings {
  statementTimeoutMs: number;
  lockTimeoutMs?: number;
}

export const READ_SESSION: SessionSettings = { statementTimeoutMs: 60_000 };

const losses = new WeakMap<pg.Client, Error>();
let lastLost: pg.Client | null = null;

/**
 * What the server said when it last closed a session of this process outside a query (its FATAL: 57P01 for
 * pg_terminate_backend or a shutdown), else that session's socket error.
 */
export function lastConnectionLoss(): Error | null {
  return (lastLost && losses.get(lastLost)) ?? null;
}

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
 * Connects with nothing set: no application_name in the startup packet, no session setting. Through a transaction
 * pooler anything set on the session would stay on a server connection that other clients get next, so settings
 * come only after detectTransactionPooler has cleared the connection. Errors name the target and the server's
 * message, never the password.
 */
export async function connectPlain(config: pg.ClientConfig): Promise<pg.Client> {
  const client = new pg.Client({ ...config, connectionTimeoutMillis: 10_000 });
  // an idle session killed by the server must not crash the process; what the server said is kept for the message
  // of the next query, which the driver only fails with "not queryable"
  client.on('error', (e) => {
    // the server's FATAL comes first, then the driver's "Connection terminated unexpectedly": keep the server's words
    const had = losses.get(client) as { code?: unknown } | undefined;
    if (!had || typeof had.code !== 'string' || typeof (e as { code?: unknown }).code === 'string') losses.set(client, e);
    lastLost = client;
  });
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
  return client;
}

/**
 * Opens one session with application_name=partwise and the step's timeouts, on a target that was already found
 * not to be a transaction pooler (connectForCommand checks the first session).
 */
export async function openSession(config: pg.ClientConfig, settings: SessionSettings = READ_SESSION): Promise<pg.Client> {
  const client = await connectPlain(config);
  try {
    await applySettings(client, settings);
  } catch (e) {
    await client.end().catch(() => undefined);
    throw e;
  }
  return client;
}

export async function applySettings(client: pg.Client, s: SessionSettings): Promise<void> {
  await client.query(
    `SELECT set_config('application_name', 'partwise', false), set_config('statement_timeout', $1, false), set_config('lock_timeout', $2, false),
            set_config('idle_in_transaction_session_timeout', '600000', false)`,
    [`${s.statementTimeoutMs}ms`, `${s.lockTimeoutMs ?? 0}ms`],
  );
}

/** The local TCP port of the client's socket (undefined on a Unix socket). */
function localPort(client: pg.Client): number | undefined {
  const stream = (client as unknown as { connection?: { stream?: { localPort?: number } } }).connection?.stream;
  return typeof stream?.localPort === 'number' ? stream.localPort : undefined;
}

const pidOf = async (c: pg.Client) => (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;

/** Rounds of the two-connection test; one round is enough on an idle pool, the others are for a busy one. */
const ROUNDS = 20;

/**
 * A transaction-mode pooler (Supabase's port 6543, PgBouncer pool_mode=transaction) hands each transaction to any
 * server connection: a session setting or an advisory lock would stay on a server connection that another client gets
 * next. Decided before anything is set, on a plain connection (connectPlain):
 * - the server sees our own socket (its inet_client_port and inet_server_port are our socket's ends): direct;
 * - else a second plain connection B, in rounds: A runs a transaction, then B opens one and keeps it open while A runs
 *   another. On a direct or session-pooled connection A always has the same server process and B never has A's.
 *   A transaction pooler gives B the server connection A has just released (PgBouncer reuses the last released one;
 *   on an idle pool the first round shows it), or moves A to another (what a busy pool does).
 * Returns why the connection is a transaction pooler, or null.
 */
export async function detectTransactionPooler(client: pg.Client, config: pg.ClientConfig): Promise<string | null> {
  if (config.port === 6543) return "port 6543 is Supabase's transaction-mode pooler";
  const ends = (await client.query<{ pid: number; client_port: number | null; server_port: number | null }>(
    'SELECT pg_backend_pid() AS pid, inet_client_port() AS client_port, inet_server_port() AS server_port',
  )).rows[0]!;
  const mine = localPort(client);
  if (mine !== undefined && ends.client_port === mine && ends.server_port === (config.port ?? 5432)) return null;
  const other = await connectPlain(config);
  try {
    const seenByA = new Set<number>([ends.pid]);
    const seenByB = new Set<number>();
    for (let round = 0; round < ROUNDS; round++) {
      seenByA.add(await pidOf(client));
      try {
        await other.query('BEGIN');
      } catch (e) {
        return `a transaction could not be opened (${(e as Error).message}): a statement-mode pooler`;
      }
      try {
        seenByB.add(await pidOf(other));
        seenByA.add(await pidOf(client));
      } finally {
        await other.query('COMMIT').catch(() => undefined);
      }
      if ([...seenByB].some((pid) => seenByA.has(pid))) return 'a second connection was given the server connection the first one had just used';
      if (seenByA.size > 1) return "one connection's consecutive transactions ran on different server connections";
    }
    return null;
  } finally {
    await other.end().catch(() => undefined);
  }
}
