/**
 * One real PostgreSQL per test run: TEST_DATABASE_URL if set, else a throwaway
 * embedded PostgreSQL 17. Tests get it through inject('partwiseTestServer')
 * (see test/helpers/db.ts) and each creates and drops its own database.
 */
import os from 'node:os';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startEmbedded } from '../../src/db/embedded.js';

/** Plain data only: it is serialised to the test workers. */
export interface TestServerConfig {
  host: string;
  port: number;
  user: string;
  password?: string;
  database: string;
  ssl?: boolean | { rejectUnauthorized: boolean };
}

export interface TestServerInfo {
  config: TestServerConfig;
  source: 'embedded' | 'TEST_DATABASE_URL';
  /** server_version, e.g. "17.10" */
  version: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    partwiseTestServer: TestServerInfo;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const url = process.env.TEST_DATABASE_URL;
  if (url) {
    const config = parseDatabaseUrl(url);
    const version = await serverVersion(config, redactUrl(url));
    project.provide('partwiseTestServer', { config, source: 'TEST_DATABASE_URL', version });
    return async () => {};
  }

  // PARTWISE_TEST_PG_LOG=1 shows the server log when debugging a failing run.
  const onLog = process.env.PARTWISE_TEST_PG_LOG ? (line: string) => process.stderr.write(`[pg] ${line}\n`) : undefined;
  const server = await startEmbedded({ persistent: false, onLog });
  const c = server.config;
  const config: TestServerConfig = {
    host: String(c.host),
    port: Number(c.port),
    user: String(c.user),
    password: typeof c.password === 'string' ? c.password : undefined,
    database: String(c.database),
  };
  project.provide('partwiseTestServer', { config, source: 'embedded', version: server.version });
  return () => server.stop();
}

/** postgres://user:pass@host:port/db?sslmode=…&host=/socket/dir → a plain config. */
export function parseDatabaseUrl(raw: string): TestServerConfig {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error('TEST_DATABASE_URL is not a valid postgres:// URL');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new Error(`TEST_DATABASE_URL must start with postgres:// (got ${url.protocol}//)`);
  }
  const user = decodeURIComponent(url.username) || process.env.PGUSER || os.userInfo().username;
  const config: TestServerConfig = {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1') || url.searchParams.get('host') || 'localhost',
    port: url.port ? Number(url.port) : 5432,
    user,
    database: decodeURIComponent(url.pathname.replace(/^\//, '')) || user,
  };
  if (url.password) config.password = decodeURIComponent(url.password);
  const sslmode = url.searchParams.get('sslmode');
  if (sslmode === 'require' || sslmode === 'prefer') config.ssl = { rejectUnauthorized: false };
  if (sslmode === 'verify-ca' || sslmode === 'verify-full') config.ssl = true;
  return config;
}

function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password) url.password = '********';
    return url.toString();
  } catch {
    return '(unparseable URL)';
  }
}

async function serverVersion(config: TestServerConfig, label: string): Promise<string> {
  const client = new pg.Client({ ...config, connectionTimeoutMillis: 10_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    const { rows } = await client.query<{ v: string }>("SELECT current_setting('server_version') AS v");
    return rows[0]!.v.split(' ')[0]!;
  } catch (err) {
    throw new Error(`Cannot connect to TEST_DATABASE_URL (${label}): ${(err as Error).message}`);
  } finally {
    await client.end().catch(() => {});
  }
}
