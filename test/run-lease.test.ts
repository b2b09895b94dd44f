/**
 * One migrate at a time, through a lease row (never a session advisory lock, which a pooler's server connection
 * would keep): a second migrate is refused and told who copies; `partwise resume` names the running one; a migrate
 * killed with SIGKILL leaves no lease behind that stops the next one.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, resultOf, runCli } from './helpers/cli.js';
import { cleanEnv } from './helpers/env.js';
import { moveFixture, type MoveFixture } from './helpers/moveSetup.js';

describe('the copy lease', () => {
  let f: MoveFixture;
  beforeAll(async () => {
    f = await moveFixture('run_lease', { rows: 20_000 });
  });
  afterAll(async () => f?.close());

  it('refuses a second migrate while one copies, names the first; a killed one frees the copy for the next', async () => {
    const env = cleanEnv({ NO_COLOR: '1' });
    // slow on purpose: 500 rows/s over 20,000 rows
    const first = spawn(process.execPath, [BIN, 'migrate', '--mode', 'all', '--max-rate', '500', '--url', f.db.url, '--yes', '--json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    first.stdout.on('data', (d) => (out += d));
    const exited = new Promise<void>((resolve) => first.on('close', () => resolve()));
    try {
      // copying: the lease is held and a batch is journaled
      for (;;) {
        if (first.exitCode !== null) throw new Error(`migrate ended early: ${out}`);
        if (out.includes('"progress.overall"')) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const lease = await f.client.query(`SELECT holder FROM partwise.run_lease`);
      expect(lease.rows[0].holder).toContain(`pid ${first.pid}`);

      const second = await runCli(['migrate', '--mode', 'all', '--url', f.db.url, '--yes', '--json']);
      expect(second.code).toBe(1);
      expect(String(resultOf(second)?.summary)).toMatch(new RegExp(`another partwise migrate of public\\.petri_observations is running \\(.* pid ${first.pid},`));
      const resume = await runCli(['resume', '--url', f.db.url, '--json']);
      expect(String(resultOf(resume)?.summary)).toContain(`the running migrate (`);
      expect(String(resultOf(resume)?.summary)).toContain(`pid ${first.pid}`);
      // no session-level lock of partwise's on the server: only transaction-level ones while a batch runs
      const sessionLocks = await f.client.query(
        `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE l.locktype = 'advisory' AND a.state = 'idle'`,
      );
      expect(sessionLocks.rows[0].n).toBe(0);

      first.kill('SIGKILL');
      await exited;
      const third = await runCli(['migrate', '--mode', 'all', '--max-rate', '100000000', '--url', f.db.url, '--yes', '--json']);
      expect(resultOf(third), third.stdout).toMatchObject({ ok: true });
      expect(String(resultOf(third)?.summary)).toContain('every program is copied');
      // released at the end
      expect((await f.client.query(`SELECT count(*)::int AS n FROM partwise.run_lease`)).rows[0].n).toBe(0);
    } finally {
      if (first.exitCode === null) first.kill('SIGKILL');
      await exited;
    }
  });
});
