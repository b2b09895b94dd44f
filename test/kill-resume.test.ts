/**
 * The real bin/partwise migrate killed with SIGKILL at random moments, several times, while the application keeps
 * writing; then resumed: no gaps, no duplicates, checksums equal. And SIGTERM: the current batch commits, the
 * process says how to resume and exits 130.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { takeSnapshot } from '../src/catalog/snapshot.js';
import { replayBatch } from '../src/move/capture.js';
import { cleanEnv } from './helpers/env.js';
import { BIN, resultOf, runCli } from './helpers/cli.js';
import { moveFixture, rowDifferences, startWriter, type MoveFixture } from './helpers/moveSetup.js';

/** Starts migrate; resolves once it has printed `progressLines` progress lines, with a way to kill it. */
function startMigrate(url: string, extra: string[] = []) {
  const env = cleanEnv({ NO_COLOR: '1' });
  const child = spawn(process.execPath, [BIN, 'migrate', '--mode', 'all', '--batch-size', '200', '--sleep-ms', '15', '--url', url, '--yes', '--json', ...extra], {
    env, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let progress = 0;
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  child.stdout.on('data', (d: Buffer) => {
    out += d;
    progress = out.split('\n').filter((l) => l.includes('"progress.overall"')).length;
    for (const w of waiters.filter((x) => progress >= x.n)) w.resolve();
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child,
    exited,
    output: () => out,
    /** resolves after n progress lines, or when the process ends first */
    progressAtLeast: (n: number) => Promise.race([new Promise<void>((resolve) => waiters.push({ n, resolve })), exited.then(() => undefined)]),
  };
}

/** The copy's indexes (name and definition), to compare before the copy and after it. */
async function copyIndexes(f: MoveFixture): Promise<Array<{ name: string; def: string; unique: boolean }>> {
  return (await f.client.query(`SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS def, i.indisunique AS unique FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                                 WHERE i.indrelid = 'public.petri_observations_partitioned'::regclass ORDER BY 1`)).rows;
}

describe('migrate survives SIGKILL and SIGTERM', () => {
  let f: MoveFixture;
  beforeAll(async () => {
    f = await moveFixture('kill_resume');
  });
  afterAll(async () => f?.close());

  it('killed at random moments several times under a writer, then resumed: no gaps, no duplicates, checksums equal', async () => {
    const writer = await startWriter(f.db.config, 5);
    let kills = 0;
    for (let i = 0; i < 4; i++) {
      const m = startMigrate(f.db.url);
      // a random moment after it started copying: 1 to 12 committed batches
      await m.progressAtLeast(1 + Math.floor(Math.random() * 12));
      if (m.child.exitCode === null) {
        m.child.kill('SIGKILL');
        kills++;
      }
      await m.exited;
    }
    expect(kills).toBeGreaterThanOrEqual(3);
    const cp = await f.client.query(`SELECT done FROM partwise.copy_checkpoint WHERE scope = 'all'`);
    expect(cp.rows[0].done).toBe(false);
    const last = await runCli(['migrate', '--mode', 'all', '--batch-size', '2000', '--url', f.db.url, '--yes', '--json']);
    expect(resultOf(last)?.summary).toContain('every program is copied');
    expect(last.code).toBe(0);
    const w = await writer.stop();
    expect(w.errors).toEqual([]);
    const snap = await takeSnapshot(f.client, f.cfg);
    while ((await replayBatch(f.client, snap, f.cfg, 'forward', 1000)) > 0);
    const d = await rowDifferences(f.client);
    expect(d).toEqual({ sourceOnly: 0, newOnly: 0, source: d.source, target: d.source });
    const dup = await f.client.query(`SELECT count(*)::int AS n FROM (SELECT observation_id FROM public.petri_observations_partitioned GROUP BY 1 HAVING count(*) > 1) x`);
    expect(dup.rows[0].n).toBe(0);
    const v = await runCli(['verify', '--data', '--json', '--url', f.db.url]);
    expect(resultOf(v)?.summary).toMatch(/data verified/);
    expect(v.code).toBe(0);
  });

  it('SIGTERM stops after the current batch commits, exits 130 and says how to resume', async () => {
    await f.client.query(`TRUNCATE public.petri_observations_partitioned`);
    await f.client.query(`DELETE FROM partwise.copy_checkpoint`);
    const m = startMigrate(f.db.url);
    await m.progressAtLeast(2);
    m.child.kill('SIGTERM');
    const code = await m.exited;
    expect(code).toBe(130);
    const result = m.output().split('\n').filter((l) => l.includes('"type":"result"')).map((l) => JSON.parse(l)).at(-1);
    expect(result.summary).toContain('run partwise migrate again to resume');
    const journal = await f.client.query(`SELECT status, error FROM partwise.step_log WHERE step = 'migrate' ORDER BY id DESC LIMIT 1`);
    expect(journal.rows[0].status).toBe('interrupted');
    expect(journal.rows[0].error).toContain('run partwise migrate again to resume');
  });
});

describe('migrate --workers 2 survives SIGKILL', () => {
  let f: MoveFixture;
  beforeAll(async () => {
    f = await moveFixture('kill_resume_workers');
  });
  afterAll(async () => f?.close());

  it('killed three times at random moments under a writer, then resumed with 2 workers: checksums equal, nothing skipped or twice', async () => {
    const created = await copyIndexes(f);
    expect(created.filter((i) => !i.unique).length).toBeGreaterThan(0);
    const writer = await startWriter(f.db.config, 5);
    let kills = 0;
    let parts = 0;
    for (let i = 0; i < 5 && kills < 3; i++) {
      const m = startMigrate(f.db.url, ['--workers', '2']);
      await m.progressAtLeast(1 + Math.floor(Math.random() * 12));
      if (m.child.exitCode === null) {
        m.child.kill('SIGKILL');
        kills++;
      }
      await m.exited;
      // the workers' block ranges, each with its checkpoint, outlive the process
      parts = Math.max(parts, (await f.client.query(`SELECT count(*)::int AS n FROM partwise.copy_checkpoint WHERE scope LIKE 'part:%'`)).rows[0].n);
    }
    expect(kills).toBe(3);
    expect(parts).toBeGreaterThan(1);
    // the bulk copy runs without the copy's secondary indexes (src/plan/deferIndexes.ts): the unique ones stay
    expect(await copyIndexes(f)).toEqual(created.filter((i) => i.unique));
    const last = await runCli(['migrate', '--mode', 'all', '--workers', '2', '--batch-size', '2000', '--url', f.db.url, '--yes', '--json']);
    expect(resultOf(last)?.summary).toContain('every program is copied');
    expect(last.code).toBe(0);
    // built again after the copy, as create made them
    expect(await copyIndexes(f)).toEqual(created);
    const w = await writer.stop();
    expect(w.errors).toEqual([]);
    const snap = await takeSnapshot(f.client, f.cfg);
    while ((await replayBatch(f.client, snap, f.cfg, 'forward', 1000)) > 0);
    const d = await rowDifferences(f.client);
    expect(d).toEqual({ sourceOnly: 0, newOnly: 0, source: d.source, target: d.source });
    const dup = await f.client.query(`SELECT count(*)::int AS n FROM (SELECT observation_id FROM public.petri_observations_partitioned GROUP BY 1 HAVING count(*) > 1) x`);
    expect(dup.rows[0].n).toBe(0);
    const v = await runCli(['verify', '--data', '--json', '--url', f.db.url]);
    expect(resultOf(v)?.summary).toMatch(/data verified/);
    expect(v.code).toBe(0);
  });
});
