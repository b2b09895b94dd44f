/**
 * Once per test run, before any test: builds dist/ (a compile error fails the run), clears the connection variables
 * of the developer's shell, makes the run's temporary directory, and starts one real PostgreSQL: TEST_DATABASE_URL
 * if set, else a throwaway embedded PostgreSQL 17. Tests get the server through inject('partwiseTestServer') (see
 * test/helpers/db.ts) and each creates and drops its own database. At the end, the run fails if a test left a
 * temporary file behind.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startEmbedded } from '../../src/db/embedded.js';
import { clearLeakyEnv } from '../helpers/env.js';
import { buildDist } from './buildDist.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

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
    /** the run's temporary directory: workers point TMPDIR at it */
    partwiseRunTmp: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const url = process.env.TEST_DATABASE_URL;
  // a URL without a user falls back to PGUSER as libpq does; read before the environment is cleared
  const config = url ? parseDatabaseUrl(url) : undefined;
  clearLeakyEnv(process.env);
  const built = await buildDist(ROOT);
  if (built === 'built') process.stderr.write('globalSetup: compiled src/ to dist/\n');
  const runTmp = await makeRunTmp();
  project.provide('partwiseRunTmp', runTmp);

  let stopServer = async () => {};
  try {
    if (config && url) {
      const version = await serverVersion(config, redactUrl(url));
      project.provide('partwiseTestServer', { config, source: 'TEST_DATABASE_URL', version });
    } else {
      // PARTWISE_TEST_PG_LOG=1 shows the server log when debugging a failing run.
      const onLog = process.env.PARTWISE_TEST_PG_LOG ? (line: string) => process.stderr.write(`[pg] ${line}\n`) : undefined;
      const server = await startEmbedded({ persistent: false, dataDir: runTmp, onLog });
      stopServer = () => server.stop();
      const c = server.config;
      project.provide('partwiseTestServer', {
        config: {
          host: String(c.host),
          port: Number(c.port),
          user: String(c.user),
          password: typeof c.password === 'string' ? c.password : undefined,
          database: String(c.database),
        },
        source: 'embedded',
        version: server.version,
      });
    }
  } catch (e) {
    await fs.rm(runTmp, { recursive: true, force: true });
    throw e;
  }
  return async () => {
    await stopServer();
    const left = await fs.readdir(runTmp).catch(() => []);
    await fs.rm(runTmp, { recursive: true, force: true });
    if (left.length) throw new Error(`tests left temporary files behind in ${runTmp} (now removed): ${left.join(', ')}`);
  };
}

/** One directory per run for every temporary file (os.tmpdir() in the workers and the processes they spawn). */
async function makeRunTmp(): Promise<string> {
  // as root the embedded server runs as the postgres OS user: /var/tmp and a traversable directory
  const base = process.getuid?.() === 0 ? '/var/tmp' : os.tmpdir();
  const dir = await fs.mkdtemp(path.join(base, 'partwise-test-run-'));
  await fs.chmod(dir, 0o711);
  return dir;
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
