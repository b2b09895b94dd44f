/**
 * Where the benchmark runs: a throwaway embedded PostgreSQL 17 (default) or the server behind --url. Either way it
 * creates its own databases and drops them at the end, so it never touches existing data.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { configFromUrl } from '../db/connect.js';
import { startEmbedded } from '../db/embedded.js';
import { ident } from '../db/quote.js';

export interface BenchServer {
  /** connection to the server's maintenance database (creates and drops the bench databases) */
  admin: pg.ClientConfig;
  label: string;
  version: string;
  stop(): Promise<void>;
}

export interface BenchDatabase {
  config: pg.ClientConfig;
  name: string;
  /** libpq environment for pgbench and the partwise child process (password passed by environment, never argv) */
  env: NodeJS.ProcessEnv;
  drop(): Promise<void>;
}

export async function openServer(url: string | undefined, maxWalSize?: string): Promise<BenchServer> {
  if (!url) {
    // durable like a production server: without fsync, write latencies and checkpoints would mean nothing
    const server = await startEmbedded({ persistent: false, durable: true, settings: maxWalSize ? { max_wal_size: maxWalSize } : {} });
    return { admin: server.config, label: `embedded PostgreSQL ${server.version}`, version: server.version, stop: () => server.stop() };
  }
  const admin = configFromUrl(url);
  const version = await withClient(admin, async (c) => (await c.query<{ v: string }>(`SELECT current_setting('server_version') AS v`)).rows[0]!.v.split(' ')[0]!);
  return { admin, label: `PostgreSQL ${version} at ${admin.host ?? 'localhost'}:${admin.port ?? 5432}`, version, stop: async () => {} };
}

export async function createDatabase(server: BenchServer, purpose: string): Promise<BenchDatabase> {
  const name = `partwise_bench_${purpose}_${randomBytes(4).toString('hex')}`;
  await withClient(server.admin, (c) => c.query(`CREATE DATABASE ${ident(name)}`));
  const config: pg.ClientConfig = { ...server.admin, database: name };
  let dropped: Promise<void> | undefined;
  return {
    config,
    name,
    env: libpqEnvFor(config),
    drop: () => (dropped ??= withClient(server.admin, async (c) => void (await c.query(`DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`)))),
  };
}

export async function withClient<T>(config: pg.ClientConfig, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(config);
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function connect(config: pg.ClientConfig): Promise<pg.Client> {
  const client = new pg.Client({ ...config, application_name: 'partwise-bench' });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** The libpq variables that point pgbench and `bin/partwise` at the database; only the connection, nothing else. */
export function libpqEnvFor(c: pg.ClientConfig): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PG') && k !== 'DATABASE_URL') env[k] = v;
  env.PGHOST = String(c.host ?? 'localhost');
  env.PGPORT = String(c.port ?? 5432);
  if (c.user) env.PGUSER = c.user;
  env.PGDATABASE = String(c.database);
  if (typeof c.password === 'string' && c.password) env.PGPASSWORD = c.password;
  if (c.ssl) env.PGSSLMODE = typeof c.ssl === 'object' && c.ssl.rejectUnauthorized === false ? 'require' : 'verify-full';
  return env;
}
