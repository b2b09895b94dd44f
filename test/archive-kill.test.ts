/**
 * archive and restore killed with SIGKILL at several points (after the detach, in the middle of writing the file,
 * after it, while reading it back, after the check; in the middle of the load, after it, at the attach), then run
 * again: every run ends consistent. At any point the program's rows are in the partition, in the detached table, or
 * (once verified) in the file, never lost; the rerun finishes and restore brings back the same rows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resultOf, runCli } from './helpers/cli.js';
import { startCli } from './helpers/cliProcess.js';
import { waitUntil } from './helpers/waitUntil.js';
import { archiveFixture, partitions, programSum, writerOn, type ArchiveFixture } from './helpers/archiveSetup.js';

type Ev = Record<string, unknown>;
const ARCHIVE_POINTS: Array<[string, (e: Ev) => boolean]> = [
  ['after the detach', (e) => e.type === 'step.done' && e.step === 'archive-detach'],
  ['while writing the file', (e) => e.type === 'transfer' && e.what === 'write'],
  ['after writing the file', (e) => e.type === 'step.done' && e.step === 'archive-write'],
  ['while reading the file back', (e) => e.type === 'transfer' && e.what === 'verify'],
  ['after the read-back', (e) => e.type === 'step.done' && e.step === 'archive-verify'],
];
const RESTORE_POINTS: Array<[string, (e: Ev) => boolean]> = [
  ['while loading', (e) => e.type === 'transfer' && e.what === 'load'],
  ['after the load', (e) => e.type === 'step.done' && e.step === 'restore-load'],
  ['at the attach', (e) => e.type === 'step.start' && e.step === 'restore-attach'],
  ['while checking the file', (e) => e.type === 'transfer' && e.what === 'check'],
  ['while loading (again)', (e) => e.type === 'transfer' && e.what === 'load' && Number(e.rows) > 0],
];

describe('archive and restore survive SIGKILL', () => {
  let f: ArchiveFixture;
  let key: string;
  let part: string;
  beforeAll(async () => {
    f = await archiveFixture('archive_kill', { rows: 4000, programs: 3 });
    key = f.programs[0]!.key;
    part = (await partitions(f.client)).find((p) => p.bound.includes(key))!.name;
    // a partition big enough that writing, reading back and loading it take a moment (about 40 MB of COPY text)
    await f.client.query(`INSERT INTO public.petri_observations (program_id, phase, petri_code, growth_index)
      SELECT $1, 'growth', repeat(md5(g::text), 40), g % 100 FROM generate_series(1, 30000) g`, [key]);
  });
  afterAll(async () => f?.close());

  /** The killed process's server session is gone (its journal record is then interrupted, not running). */
  const sessionGone = () => waitUntil(async () => {
    const r = await f.client.query(`SELECT count(*)::int AS n FROM partwise.step_log l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.status = 'running'`);
    return r.rows[0].n === 0;
  }, { what: 'the killed run\'s server session to end' });

  /** Where the program's rows are now: in the partition or the detached table (with the count), or only in the file. */
  async function rowsAreSomewhere(expected: number, what: string) {
    const t = (await f.client.query(`SELECT to_regclass($1) IS NOT NULL AS e`, [`public.${part}`])).rows[0].e as boolean;
    if (t) {
      const n = (await f.client.query(`SELECT count(*)::int AS n FROM ONLY public.${part}`)).rows[0].n;
      expect(n, `${what}: rows in ${part}`).toBe(expected);
    } else {
      const phase = (await f.client.query(`SELECT phase FROM partwise.archive WHERE program = $1`, [key])).rows[0]?.phase;
      expect(phase, `${what}: ${part} is gone, so the file must be verified`).toBe('archived');
    }
  }

  it('killed at each point, then run again: ends consistent, and the rows come back equal', async () => {
    const before = await programSum(f.client, key);
    const writer = await writerOn(f.db.config, f.programs.slice(1).map((p) => p.key));
    let killed = 0;
    for (let i = 0; i < ARCHIVE_POINTS.length; i++) {
      const [point, match] = ARCHIVE_POINTS[i]!;
      const path = f.file(`kill-${i}.copy.gz`);
      const a = startCli(['archive', '--program', `key:${key}`, '--to', path, '--yes', '--url', f.db.url]);
      if ((await a.until(match)) && a.child.exitCode === null) {
        a.child.kill('SIGKILL');
        killed++;
      }
      await a.exited;
      await sessionGone();
      await rowsAreSomewhere(before.n, `archive killed ${point}`);
      const again = await runCli(['archive', '--program', `key:${key}`, '--to', path, '--yes', '--json', '--url', f.db.url]);
      expect(resultOf(again), `rerun after archive killed ${point}: ${again.stdout}`).toMatchObject({ ok: true });
      expect((await partitions(f.client)).some((p) => p.name === part)).toBe(false);

      const [rpoint, rmatch] = RESTORE_POINTS[i]!;
      const r = startCli(['restore', '--from', path, '--yes', '--url', f.db.url]);
      if ((await r.until(rmatch)) && r.child.exitCode === null) {
        r.child.kill('SIGKILL');
        killed++;
      }
      await r.exited;
      await sessionGone();
      // the load is one transaction: either nothing is there, or every row of the archive
      const t = (await f.client.query(`SELECT to_regclass($1) IS NOT NULL AS e`, [`public.${part}`])).rows[0].e as boolean;
      if (t) expect((await f.client.query(`SELECT count(*)::int AS n FROM ONLY public.${part}`)).rows[0].n, `restore killed ${rpoint}`).toBe(before.n);
      const ragain = await runCli(['restore', '--from', path, '--yes', '--json', '--url', f.db.url]);
      // killed after the attach committed: the rerun finds the partition back and says so
      const summary = String(resultOf(ragain)?.summary);
      if (!resultOf(ragain)?.ok) expect(summary, `rerun after restore killed ${rpoint}`).toContain('already has its partition');
      expect(await programSum(f.client, key), `after restore killed ${rpoint} and run again`).toEqual(before);
      expect((await partitions(f.client)).some((p) => p.name === part)).toBe(true);
    }
    const w = await writer.stop();
    expect(w.errors).toEqual([]);
    expect(killed).toBeGreaterThanOrEqual(7);
  }, 600_000);
});
