/**
 * How archive detaches: with a default partition a plain DETACH under lock_timeout, retried, naming the session in its
 * way; without one DETACH ... CONCURRENTLY, and when its wait timed out (the partition left "detach pending") the
 * next attempt or run completes it with FINALIZE.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resultOf, runCli } from './helpers/cli.js';
import { connect } from './helpers/moveSetup.js';
import { archiveFixture, partitions, programSum, type ArchiveFixture } from './helpers/archiveSetup.js';

describe('archive detaches with bounded locks', () => {
  let f: ArchiveFixture;
  beforeAll(async () => {
    f = await archiveFixture('archive_locks', { rows: 3000, programs: 3 });
  });
  afterAll(async () => f?.close());

  it('with a default partition: a plain DETACH under lock_timeout, retried, the blocking session named; nothing changed', async () => {
    const key = f.programs[0]!.key;
    const blocker = await connect(f.db.config);
    try {
      await blocker.query(`SET application_name = 'pw-archive-blocker'`);
      // an open transaction that read the table: it holds ACCESS SHARE on the parent and the partition until it ends
      await blocker.query('BEGIN');
      await blocker.query(`SELECT count(*) FROM public.petri_observations WHERE program_id = $1`, [key]);
      const pid = (await blocker.query(`SELECT pg_backend_pid() AS p`)).rows[0].p as number;
      const r = await runCli(['archive', '--program', `key:${key}`, '--to', f.file('blocked.gz'), '--yes', '--json', '--lock-timeout', '100', '--lock-retries', '2', '--url', f.db.url]);
      expect(r.code, r.stdout).toBe(1);
      const start = r.events.find((e) => e.type === 'step.start' && e.step === 'archive-detach') as { statements: string[] };
      expect(start.statements[0]).toMatch(/DETACH PARTITION "public"\."petri_obs_prog_[^"]+"$/);
      const retry = r.events.find((e) => e.type === 'step.retry') as { blockers: Array<{ pid: number; applicationName: string }> } | undefined;
      expect(retry?.blockers.map((b) => b.pid)).toContain(pid);
      expect(String(resultOf(r)?.summary)).toContain(`pid ${pid}`);
      expect(String(resultOf(r)?.summary)).toContain('nothing was changed');
      expect((await partitions(f.client)).some((p) => p.bound.includes(key))).toBe(true);
    } finally {
      await blocker.query('ROLLBACK').catch(() => undefined);
      await blocker.end();
    }
  });

  it('without a default partition: DETACH CONCURRENTLY; a wait that timed out leaves it pending, and the next run finishes it with FINALIZE', async () => {
    // the default partition's rows (keys without a lookup row) go, and with them the default partition
    await f.client.query(`DELETE FROM public.petri_obs_default; DROP TABLE public.petri_obs_default`);
    const key = f.programs[1]!.key;
    const before = await programSum(f.client, key);
    const path = f.file('concurrent.gz');
    const blocker = await connect(f.db.config);
    let r;
    try {
      await blocker.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      await blocker.query(`SELECT count(*) FROM public.petri_observations WHERE program_id = $1`, [key]);
      r = await runCli(['archive', '--program', `key:${key}`, '--to', path, '--yes', '--json', '--lock-timeout', '200', '--lock-retries', '2', '--url', f.db.url]);
    } finally {
      await blocker.query('ROLLBACK').catch(() => undefined);
      await blocker.end();
    }
    expect(r.code, r.stdout).toBe(1);
    const start = r.events.find((e) => e.type === 'step.start' && e.step === 'archive-detach') as { statements: string[] };
    expect(start.statements[0]).toMatch(/ CONCURRENTLY$/);
    const pending = await f.client.query(`SELECT inhdetachpending AS p FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE pg_get_expr(c.relpartbound, c.oid) LIKE $1`, [`%${key}%`]);
    expect(pending.rows[0]?.p).toBe(true);

    const again = await runCli(['archive', '--program', `key:${key}`, '--to', path, '--yes', '--json', '--url', f.db.url]);
    expect(resultOf(again), again.stdout).toMatchObject({ ok: true });
    const start2 = again.events.find((e) => e.type === 'step.start' && e.step === 'archive-detach') as { statements: string[] };
    expect(start2.statements[0]).toMatch(/ FINALIZE$/);
    const back = await runCli(['restore', '--from', path, '--yes', '--json', '--url', f.db.url]);
    expect(resultOf(back), back.stdout).toMatchObject({ ok: true, data: { moved: 0 } });
    expect(await programSum(f.client, key)).toEqual(before);
  });
});
