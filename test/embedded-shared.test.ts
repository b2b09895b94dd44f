/**
 * The rehearsal database is one server per data directory, shared (src/db/embeddedShared.ts): through the real
 * bin/partwise, two processes starting at once start one server and seed it once; it outlives the process that started
 * it and the next command reuses it on the same port; a server killed with SIGKILL is restarted by the next command;
 * `partwise demo stop` stops it. And the app's reconnecting session (src/db/reconnectingClient.ts).
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbedded } from '../src/db/embedded.js';
import { readServerState, stopSharedServer } from '../src/db/embeddedShared.js';
import { isConnectionLost, reconnectingClient } from '../src/db/reconnectingClient.js';
import { openSession } from '../src/db/session.js';
import { processAlive } from '../src/db/fileLock.js';
import { resultOf, runCli, type CliRun } from './helpers/cli.js';
import { createTestDatabase, withClient } from './helpers/db.js';
import { serverTempDir } from './helpers/tempDir.js';
import { waitForExit } from './helpers/waitUntil.js';

const DEMO = ['--demo-rows', '1000', '--demo-programs', '3'];
const startedMessages = (r: CliRun) => r.stdout.split('\n').filter((l) => /^started it on 127\.0\.0\.1:\d+/.test(l));
const portOf = (r: CliRun) => Number(String(r.events.find((e) => e.type === 'connected')?.target).match(/^127\.0\.0\.1:(\d+)\//)?.[1]);

describe('one embedded server per data directory, shared by every partwise process', () => {
  let dir = '';
  let dataDir = '';
  let env: Record<string, string> = {};
  const cli = (args: string[]) => runCli([...args, ...DEMO], env);
  beforeAll(() => {
    dir = serverTempDir('pw-shared-');
    dataDir = join(dir, 'pg17');
    env = { PARTWISE_EMBEDDED_DIR: dataDir };
  });
  afterAll(async () => {
    await stopSharedServer(dataDir);
    rmSync(dir, { recursive: true, force: true });
  });

  it('two processes starting at once on a new directory start one server and seed the demo once', async () => {
    const runs = await Promise.all([cli(['status', '--json']), cli(['status', '--json'])]);
    for (const r of runs) expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(portOf(runs[0]!)).toBe(portOf(runs[1]!));
    const started = runs.flatMap((r) => r.events.filter((e) => e.type === 'info' && /^started it on/.test(String(e.message))));
    expect(started).toHaveLength(1);
    const state = (await readServerState(dataDir))!;
    expect(state.port).toBe(portOf(runs[0]!));
    expect(processAlive(state.pid)).toBe(true);
    expect(Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0])).toBe(state.pid);
    const server = await startEmbedded({ persistent: true, dataDir, database: 'partwise_demo' });
    expect(server.started).toBe(false);
    const rows = await withClient(server.config, (c) => c.query(`SELECT count(*)::int AS n FROM public.petri_observations`));
    expect(rows.rows[0].n).toBe(1000);
  });

  it('the server outlives the process that started it: the next command reuses it, on the same port, starting nothing', async () => {
    const before = (await readServerState(dataDir))!;
    const r = await cli(['status']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(startedMessages(r)).toEqual([]);
    expect(r.stdout).toContain(`connected to 127.0.0.1:${before.port}/partwise_demo`);
    expect(await readServerState(dataDir)).toEqual(before);
    expect(processAlive(before.pid)).toBe(true);
  });

  it('a server killed with SIGKILL is restarted by the next command, on the same port', async () => {
    const before = (await readServerState(dataDir))!;
    process.kill(before.pid, 'SIGKILL');
    await waitForExit(before.pid, 'the killed postmaster to be gone');
    const r = await cli(['status']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(startedMessages(r)).toEqual([`started it on 127.0.0.1:${before.port}; it keeps running for other partwise processes (watch, headless commands) until partwise demo stop`]);
    const after = (await readServerState(dataDir))!;
    expect(after.port).toBe(before.port);
    expect(after.pid).not.toBe(before.pid);
    expect(processAlive(after.pid)).toBe(true);
  });

  it('partwise demo stop stops it; again, it says it is not running; the next command starts it on the same port', async () => {
    const before = (await readServerState(dataDir))!;
    const stop = await runCli(['demo', 'stop'], env);
    expect(stop.code, stop.stdout + stop.stderr).toBe(0);
    expect(stop.stdout).toContain(`stopped the embedded rehearsal database in ${dataDir} (pid ${before.pid}, port ${before.port})`);
    expect(processAlive(before.pid)).toBe(false);
    expect(existsSync(join(dataDir, 'postmaster.pid'))).toBe(false);
    const again = await runCli(['demo', 'stop', '--json'], env);
    expect(again.code).toBe(0);
    expect(resultOf(again)).toMatchObject({ command: 'demo', ok: true, summary: `the embedded rehearsal database in ${dataDir} is not running` });
    const r = await cli(['status']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(startedMessages(r)).toHaveLength(1);
    expect(r.stdout).toContain(`connected to 127.0.0.1:${before.port}/`);
  });

  it('partwise demo without stop (or with another action) is a usage error', async () => {
    for (const args of [['demo'], ['demo', 'start'], ['demo', 'stop', 'now']]) {
      const r = await runCli(args, env);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain('partwise demo stop');
    }
  });
});

describe('starting the shared server', () => {
  it('two starts at once on a new directory: one initialises and starts it, the other waits and joins', async () => {
    const dir = serverTempDir('pw-shared-race-');
    const dataDir = join(dir, 'pg17');
    try {
      const [a, b] = await Promise.all([
        startEmbedded({ persistent: true, dataDir, database: 'pw_race' }),
        startEmbedded({ persistent: true, dataDir, database: 'pw_race' }),
      ]);
      expect([a.started, b.started].sort()).toEqual([false, true]);
      expect(a.config.port).toBe(b.config.port);
      expect(a.config.password).toBe(b.config.password);
      expect((await withClient(b.config, (c) => c.query('SELECT current_database() AS d'))).rows[0].d).toBe('pw_race');
    } finally {
      await stopSharedServer(dataDir);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the reconnecting session (the app reads through it)', () => {
  it('a lost connection fails its query as "connection lost", each read tries again, and it comes back when it can', async () => {
    const db = await createTestDatabase('pw_test_reconnect');
    const session = reconnectingClient(await openSession(db.config), () => openSession(db.config));
    try {
      const pid = (session as unknown as { processID: number }).processID;
      // a query error is not a lost connection: same session afterwards
      await expect(session.query('SELECT nonsense FROM nowhere')).rejects.toSatisfy((e) => !isConnectionLost(e));
      expect((session as unknown as { processID: number }).processID).toBe(pid);
      await withClient({ ...db.config, database: 'postgres' }, async (admin) => {
        await admin.query(`ALTER DATABASE ${db.name} ALLOW_CONNECTIONS false`);
        await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      });
      await expect(session.query('SELECT 1')).rejects.toSatisfy(isConnectionLost);
      const refused = await session.query('SELECT 1').then(() => null, (e: Error) => e);
      expect(isConnectionLost(refused)).toBe(true);
      expect(refused!.message).toMatch(/^attempt \d+: .*not currently accepting connections/);
      await withClient({ ...db.config, database: 'postgres' }, (admin) => admin.query(`ALTER DATABASE ${db.name} ALLOW_CONNECTIONS true`));
      expect((await session.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      expect((session as unknown as { processID: number }).processID).not.toBe(pid);
    } finally {
      await session.end();
      await withClient({ ...db.config, database: 'postgres' }, (admin) => admin.query(`ALTER DATABASE ${db.name} ALLOW_CONNECTIONS true`)).catch(() => undefined);
      await db.drop();
    }
  });
});
