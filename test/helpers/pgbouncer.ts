/**
 * A PgBouncer of the test's own (Debian's package, `.ci/run` installs it): its ini, auth file, pidfile and socket
 * directory in a temporary directory, on a free port, in front of the run's test server. PgBouncer refuses to run as
 * root, so as root it runs as the `postgres` OS user (as the embedded server does).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { testServer } from './db.js';

export const PGBOUNCER = process.env.PGBOUNCER ?? '/usr/sbin/pgbouncer';

export interface PgBouncer {
  port: number;
  /** a client config for one of the pooler's databases */
  config(alias: string): pg.ClientConfig;
  url(alias: string): string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** The uid/gid to run servers as: the `postgres` OS user when this process is root. */
export function serverOsUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
  return { uid, gid };
}

/**
 * Starts PgBouncer with one entry per alias: `{ tx: { dbname, mode: 'transaction' } }`. A small pool (poolSize server
 * connections per database) so that a test can visit every server connection it holds.
 */
export async function startPgBouncer(databases: Record<string, { dbname: string; mode: 'transaction' | 'session' }>, poolSize = 3): Promise<PgBouncer> {
  if (!existsSync(PGBOUNCER)) throw new Error(`PgBouncer is needed for this test (${PGBOUNCER}); install it: apt-get install -y pgbouncer`);
  const server = testServer().config;
  const dir = mkdtempSync(join(tmpdir(), 'pw-pgbouncer-'));
  const port = await freePort();
  const owner = serverOsUser();
  const dbLines = Object.entries(databases).map(
    ([alias, d]) => `${alias} = host=${server.host} port=${server.port} dbname=${d.dbname} user=${server.user} pool_mode=${d.mode} pool_size=${poolSize}`,
  );
  writeFileSync(join(dir, 'userlist.txt'), `"${server.user}" "${server.password ?? ''}"\n`);
  writeFileSync(join(dir, 'pgbouncer.ini'), [
    '[databases]', ...dbLines, '',
    '[pgbouncer]',
    'listen_addr = 127.0.0.1', `listen_port = ${port}`, `unix_socket_dir = ${dir}`,
    'auth_type = trust', `auth_file = ${join(dir, 'userlist.txt')}`,
    `pidfile = ${join(dir, 'pgbouncer.pid')}`,
    'max_client_conn = 200', `default_pool_size = ${poolSize}`,
    // the default since 1.0 (LIFO: the server connection released last is handed out first), stated for the reader
    'server_round_robin = 0',
    'admin_users = ' + server.user,
    '',
  ].join('\n'));
  if (owner) {
    chmodSync(dir, 0o700);
    for (const f of ['', 'userlist.txt', 'pgbouncer.ini']) chownSync(join(dir, f), owner.uid, owner.gid);
  }
  const log: string[] = [];
  const child: ChildProcess = spawn(PGBOUNCER, [join(dir, 'pgbouncer.ini')], { uid: owner?.uid, gid: owner?.gid, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d) => log.push(String(d)));
  child.stderr?.on('data', (d) => log.push(String(d)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const config = (alias: string): pg.ClientConfig => ({ host: '127.0.0.1', port, user: server.user, database: alias });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // ready once a client gets through to the server
  const until = Date.now() + 20_000;
  for (;;) {
    const c = new pg.Client(config(Object.keys(databases)[0]!));
    c.on('error', () => undefined);
    try {
      await c.connect();
      await c.query('SELECT 1');
      await c.end();
      break;
    } catch (e) {
      await c.end().catch(() => undefined);
      if (child.exitCode !== null || Date.now() > until) {
        await stop();
        throw new Error(`PgBouncer did not start: ${(e as Error).message}\n${log.join('')}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { port, config, url: (alias) => `postgres://${encodeURIComponent(server.user)}@127.0.0.1:${port}/${alias}`, stop };
}
