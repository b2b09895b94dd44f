/**
 * The rehearsal server is shared (src/db/embeddedShared.ts), through the real bin/partwise in real terminals (tmux):
 * `watch` starts it, the driving app and headless commands use the same server and port, the driver quits and watch
 * keeps following, the server killed shows "reconnecting" in watch until the next command starts it again, and
 * `partwise demo stop` stops it. Needs tmux; without it the test is skipped with a message saying so.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbedded } from '../src/db/embedded.js';
import { readServerState, stopSharedServer } from '../src/db/embeddedShared.js';
import { processAlive } from '../src/db/fileLock.js';
import { BIN, runCli, type CliRun } from './helpers/cli.js';
import { withClient } from './helpers/db.js';
import { envPrefix } from './helpers/env.js';
import { serverTempDir } from './helpers/tempDir.js';
import { hasTmux, tmuxServer } from './helpers/tmux.js';
import { waitForExit, waitUntil } from './helpers/waitUntil.js';

if (!hasTmux) console.warn('e2e-shared-server: tmux is not installed: the shared rehearsal server test is SKIPPED (apt-get install tmux to run it)');

const DEMO = ['--demo-rows', '2000', '--demo-programs', '3'];
const started = (r: CliRun) => r.stdout.split('\n').filter((l) => l.startsWith('started it on'));

describe.skipIf(!hasTmux)('one rehearsal server, shared by watch, the app and headless commands', () => {
  let dir = '';
  let dataDir = '';
  const terminals = tmuxServer('partwise-shared');
  beforeAll(() => {
    dir = serverTempDir('partwise-shared-e2e-');
    dataDir = join(dir, 'pg17');
  });
  afterAll(async () => {
    terminals.kill();
    await stopSharedServer(dataDir);
    rmSync(dir, { recursive: true, force: true });
  });

  it('watch first, then the driver and headless commands on its server; the driver quits, the server dies and comes back: watch follows throughout', async () => {
    const partwise = `${envPrefix({ PARTWISE_EMBEDDED_DIR: dataDir, TERM: 'xterm-256color', CI: undefined, NO_COLOR: undefined })} ${process.execPath} ${BIN}`;
    const cli = (args: string[]) => runCli([...args, ...DEMO], { PARTWISE_EMBEDDED_DIR: dataDir });

    // watch comes first: it starts the server (and seeds the demo)
    const watch = terminals.open('watch', `${partwise} watch ${DEMO.join(' ')}; sleep 3600`);
    await watch.waitFor(/watch \(read-only\).*connection ok/, 240_000);
    await watch.waitFor(/next: \d/);
    const server = (await readServerState(dataDir))!;
    expect(processAlive(server.pid)).toBe(true);

    // the driver joins the same server
    const driverExit = join(dir, 'driver-exit');
    const driver = terminals.open('driver', `${partwise} ${DEMO.join(' ')}; echo $? > ${driverExit}; sleep 3600`);
    await driver.waitFor(/1\. Prerequisites\s+(✔ done|✘ failed)/, 240_000);
    // both apps (two sessions each) on the one server
    const attached = await startEmbedded({ persistent: true, dataDir, database: 'partwise_demo' });
    expect(attached.started).toBe(false);
    expect(attached.config.port).toBe(server.port);
    const sessions = await withClient(attached.config, (c) => c.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'partwise'`));
    expect(sessions.rows[0].n).toBeGreaterThanOrEqual(4);
    expect(await readServerState(dataDir)).toEqual(server);

    // a headless command while both run: the same server and port, nothing started
    const created = await cli(['create', '--yes']);
    expect(created.code, created.stdout + created.stderr).toBe(0);
    expect(started(created)).toEqual([]);
    expect(created.stdout).toContain(`connected to 127.0.0.1:${server.port}/`);
    await watch.waitFor(/2✔/);

    // the driver quits: the server stays, watch keeps following
    driver.send('q');
    await waitUntil(() => existsSync(driverExit), { what: 'the driver to exit after q', last: driver.screen });
    expect(readFileSync(driverExit, 'utf8').trim()).toBe('0');
    expect(processAlive(server.pid)).toBe(true);
    const sampled = await cli(['test-insert', '--yes']);
    expect(sampled.code, sampled.stdout + sampled.stderr).toBe(0);
    expect(started(sampled)).toEqual([]);
    await watch.waitFor(/4✔/);
    expect(watch.screen()).toMatch(/connection ok/);

    // the server is killed: watch says so and keeps trying; the next command starts the server again (same port)
    process.kill(server.pid, 'SIGKILL');
    await waitForExit(server.pid, 'the killed postmaster to be gone');
    await watch.waitFor('reconnecting…');
    const status = await cli(['status']);
    expect(status.code, status.stdout + status.stderr).toBe(0);
    expect(started(status)).toHaveLength(1);
    expect(status.stdout).toContain(`connected to 127.0.0.1:${server.port}/`);
    const after = await watch.waitFor(/watch \(read-only\).*connection ok/);
    expect(after).toMatch(/2✔.*4✔/);

    // a second watch joins at once: no start, the checklist from the journal
    const second = terminals.open('watch2', `${partwise} watch ${DEMO.join(' ')}; sleep 3600`);
    await second.waitFor(/watch \(read-only\).*connection ok[\s\S]*2✔.*4✔/);

    // partwise demo stop: the server stops for everyone (the watches say so)
    const restarted = (await readServerState(dataDir))!;
    const stop = await runCli(['demo', 'stop'], { PARTWISE_EMBEDDED_DIR: dataDir });
    expect(stop.code, stop.stdout + stop.stderr).toBe(0);
    expect(stop.stdout).toContain(`(pid ${restarted.pid}, port ${server.port})`);
    expect(processAlive(restarted.pid)).toBe(false);
    await watch.waitFor('reconnecting…');
  }, 600_000);
});
