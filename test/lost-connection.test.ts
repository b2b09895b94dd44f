/**
 * A lost connection is told plainly: what the server said (pg_terminate_backend, a restart), what was kept, what was
 * left unchanged and the command that resumes; never the driver's "not queryable" alone. The restarts run on a
 * cluster of the test's own.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { seedDemo } from '../src/demo/seedDemo.js';
import { BIN, resultOf, runCli } from './helpers/cli.js';
import { startCluster, type Cluster } from './helpers/cluster.js';
import { cleanEnv } from './helpers/env.js';
import { connect, dropDemoForeignKeysIn, moveFixture, rowDifferences, type MoveFixture } from './helpers/moveSetup.js';
import { waitUntil } from './helpers/waitUntil.js';

/** A partwise command in the background, with its NDJSON output. */
function background(args: string[]) {
  const child = spawn(process.execPath, [BIN, ...args, '--json'], { env: cleanEnv({ NO_COLOR: '1' }), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child, exited,
    output: () => out,
    result: () => out.split('\n').filter((l) => l.includes('"type":"result"')).map((l) => JSON.parse(l) as { summary: string; exitCode: number }).at(-1),
  };
}

const SERVER_ENDED = "the connection to the server was lost: the server ended partwise's session (pg_terminate_backend, or the server shutting down or restarting); the server said \"terminating connection due to administrator command\" (57P01)";

describe('a lost connection', () => {
  describe('pg_terminate_backend mid-migrate', () => {
    let f: MoveFixture;
    beforeAll(async () => {
      f = await moveFixture('lost_terminate', { rows: 20_000 });
    });
    afterAll(async () => f?.close());

    it('says what the server said, what was kept, and how to resume; the next run resumes', async () => {
      const m = background(['migrate', '--mode', 'all', '--max-rate', '2000', '--url', f.db.url, '--yes']);
      try {
        await waitUntil(() => m.output().includes('"progress.overall"') || m.child.exitCode !== null, { what: 'migrate copying' });
        // the journal records the server process of the session that runs the step
        const pid = (await f.client.query(`SELECT pid FROM partwise.step_log WHERE step = 'migrate' AND status = 'running' ORDER BY id DESC LIMIT 1`)).rows[0].pid;
        await f.client.query('SELECT pg_terminate_backend($1)', [pid]);
        expect(await m.exited).toBe(1);
      } finally {
        if (m.child.exitCode === null) m.child.kill('SIGKILL');
      }
      const summary = m.result()!.summary;
      expect(summary).toContain(SERVER_ENDED);
      expect(summary).toContain('every batch committed before this error is kept and journaled; the one in flight was rolled back');
      expect(summary).toContain('run partwise migrate again to resume');
      expect(summary).not.toMatch(/not queryable/);
      // the rate limit given before is a live control in the journal: lift it for the rest
      const again = await runCli(['migrate', '--mode', 'all', '--max-rate', '100000000', '--url', f.db.url, '--yes', '--json']);
      expect(resultOf(again), again.stdout).toMatchObject({ ok: true });
      const d = await rowDifferences(f.client);
      expect(d).toEqual({ sourceOnly: 0, newOnly: 0, source: d.source, target: d.source });
    });
  });

  describe('a server restart', () => {
    let cluster: Cluster;
    let admin: pg.Client;
    let url: string;
    beforeAll(async () => {
      cluster = await startCluster();
      const root = await connect(cluster.config());
      await root.query('CREATE DATABASE app');
      await root.end();
      admin = await connect(cluster.config('app'));
      await seedDemo(admin, { rows: 20_000, programs: 4 });
      await dropDemoForeignKeysIn(admin);
      url = cluster.url('app');
      const created = await runCli(['create', '--yes', '--json', '--url', url]);
      expect(resultOf(created), created.stdout).toMatchObject({ ok: true });
    });
    afterAll(async () => {
      await admin?.end().catch(() => undefined);
      await cluster?.stop();
    });

    it('mid-migrate: the restart is named, the copy resumes afterwards', async () => {
      const m = background(['migrate', '--mode', 'all', '--max-rate', '2000', '--url', url, '--yes']);
      try {
        await waitUntil(() => m.output().includes('"progress.overall"') || m.child.exitCode !== null, { what: 'migrate copying' });
        await cluster.restart();
        expect(await m.exited).toBe(1);
      } finally {
        if (m.child.exitCode === null) m.child.kill('SIGKILL');
      }
      const summary = m.result()!.summary;
      expect(summary).toMatch(/^migrate failed: the connection to the server was lost: /);
      expect(summary).toContain('(pg_terminate_backend, or the server shutting down or restarting)');
      expect(summary).toContain('run partwise migrate again to resume');
      expect(summary).not.toMatch(/not queryable/);
      await admin.end().catch(() => undefined);
      admin = await connect(cluster.config('app'));
      const again = await runCli(['migrate', '--mode', 'all', '--max-rate', '100000000', '--url', url, '--yes', '--json']);
      expect(resultOf(again), again.stdout).toMatchObject({ ok: true });
    });

    it('mid-verify --data: the restart is named, nothing else changed, the command to run again is given', async () => {
      // verify --data starts by applying the captured changes, under the capture's lock: held here, verify waits on it
      const blocker = await connect(cluster.config('app'));
      await blocker.query('BEGIN');
      await blocker.query(`SELECT pg_advisory_xact_lock(hashtext('partwise capture'), hashtext('forward public.petri_observations'))`);
      const v = background(['verify', '--data', '--url', url]);
      try {
        await waitUntil(async () =>
          (await admin.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'partwise' AND wait_event_type = 'Lock'`)).rows[0].n > 0,
        { what: 'verify --data waiting for the capture lock' });
        await cluster.restart();
        expect(await v.exited).toBe(1);
      } finally {
        if (v.child.exitCode === null) v.child.kill('SIGKILL');
        await blocker.end().catch(() => undefined);
      }
      const summary = v.result()!.summary;
      expect(summary).toContain(SERVER_ENDED);
      expect(summary).toContain('verify only reads');
      expect(summary).toContain('run partwise verify --data again');
      expect(summary).not.toMatch(/not queryable/);
    });
  });
});
