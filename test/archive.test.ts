/**
 * partwise archive and restore on the finished, partitioned table (the real CLI): a program's partition goes to a
 * verified file and comes back with the same rows, while the application writes to the other programs throughout;
 * the program's new rows wait in the default partition meanwhile (maintain leaves them, check and monitor say so);
 * a damaged or edited archive is refused with nothing changed.
 */
import { copyFileSync, existsSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resultOf, runCli } from './helpers/cli.js';
import { archiveFixture, partitions, programSum, writerOn, type ArchiveFixture } from './helpers/archiveSetup.js';

/** What restore must not change when it refuses: the partitions, the tables, the journal's archive records. */
async function catalogState(f: ArchiveFixture) {
  const tables = await f.client.query(`SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p') ORDER BY 1`);
  const records = await f.client.query(`SELECT program, phase, updated_at FROM partwise.archive ORDER BY program`);
  return { partitions: await partitions(f.client), tables: tables.rows.map((r) => r.relname), records: records.rows };
}

/** The security and indexes a partition carries: RLS flags, policies, grants, index definitions without names. */
async function partitionTraits(f: ArchiveFixture, name: string) {
  const r = await f.client.query(
    `SELECT c.relrowsecurity AS rls, c.relforcerowsecurity AS forced, pg_get_userbyid(c.relowner) AS owner,
            (SELECT array_agg(p.polname || ':' || p.polcmd::text || ':' || pg_get_expr(p.polqual, p.polrelid) ORDER BY p.polname) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies,
            (SELECT array_agg(a::text ORDER BY a::text) FROM unnest(c.relacl) a) AS acl,
            (SELECT array_agg(regexp_replace(pg_get_indexdef(i.indexrelid), '^.* USING ', '') ORDER BY 1) FROM pg_index i WHERE i.indrelid = c.oid) AS indexes,
            (SELECT count(*)::int FROM pg_inherits x JOIN pg_index i ON i.indexrelid = x.inhrelid WHERE i.indrelid = c.oid) AS attached_indexes
       FROM pg_class c WHERE c.oid = $1::regclass`,
    [`public.${name}`],
  );
  return r.rows[0];
}

describe('archive and restore', () => {
  let f: ArchiveFixture;
  beforeAll(async () => {
    // the demo's table has RLS, two policies and grants to the API roles: every partition carries them (create)
    f = await archiveFixture('archive', { rows: 6000, programs: 4 });
  });
  afterAll(async () => f?.close());

  it('archive then restore gives the same rows, with a writer on the other programs throughout', async () => {
    const [target, ...others] = f.programs;
    const before = await programSum(f.client, target!.key);
    expect(before.n).toBeGreaterThan(100);
    const part = (await partitions(f.client)).find((p) => p.bound.includes(target!.key))!.name;
    const sibling = (await partitions(f.client)).find((p) => p.bound.includes(others[0]!.key))!.name;
    const traits = await partitionTraits(f, part);
    const writer = await writerOn(f.db.config, others.map((p) => p.key));
    const path = f.file('program.copy.gz');
    const a = await runCli(['archive', '--program', target!.label, '--to', path, '--yes', '--json', '--url', f.db.url]);
    expect(resultOf(a), a.stdout + a.stderr).toMatchObject({ ok: true, exitCode: 0 });
    expect(existsSync(path) && existsSync(`${path}.manifest.json`)).toBe(true);
    const manifest = JSON.parse(readFileSync(`${path}.manifest.json`, 'utf8'));
    expect(manifest).toMatchObject({ table: { schema: 'public', name: 'petri_observations' }, key: { column: 'program_id', type: 'uuid', value: target!.key }, label: target!.label, rows: before.n, partition: part });
    expect(manifest.server.versionNum).toBeGreaterThan(140000);
    expect(manifest.columns.map((c: { name: string }) => c.name)).not.toContain('growth_band');
    expect(a.events.some((e) => e.type === 'transfer' && e.what === 'write')).toBe(true);
    expect(a.events.some((e) => e.type === 'transfer' && e.what === 'verify')).toBe(true);
    expect((await partitions(f.client)).some((p) => p.bound.includes(target!.key))).toBe(false);
    expect(await programSum(f.client, target!.key)).toEqual({ n: 0, h: '0' });
    expect((await f.client.query(`SELECT to_regclass($1) AS t`, [`public.${part}`])).rows[0].t).toBeNull();
    // the lookup row stays
    expect((await f.client.query(`SELECT count(*)::int AS n FROM public.pilot_programs WHERE program_id = $1`, [target!.key])).rows[0].n).toBe(1);

    const r = await runCli(['restore', '--from', path, '--yes', '--json', '--url', f.db.url]);
    expect(resultOf(r), r.stdout + r.stderr).toMatchObject({ ok: true, exitCode: 0 });
    expect(r.events.some((e) => e.type === 'transfer' && e.what === 'load')).toBe(true);
    const w = await writer.stop();
    expect(w.errors).toEqual([]);
    expect(w.ops).toBeGreaterThan(20);
    expect(await programSum(f.client, target!.key)).toEqual(before);
    expect((await partitions(f.client)).find((p) => p.bound.includes(target!.key))?.name).toBe(part);
    // the same security and indexes as before the archive (and as a sibling), every index attached to the parent's
    const back = await partitionTraits(f, part);
    expect(back).toEqual(traits);
    expect(back.attached_indexes).toBe((await partitionTraits(f, sibling)).attached_indexes);
    expect(back.attached_indexes).toBeGreaterThan(0);
    const check = await f.client.query(`SELECT count(*)::int AS n FROM pg_constraint WHERE conrelid = $1::regclass AND conname LIKE '%partwise_restore%'`, [`public.${part}`]);
    expect(check.rows[0].n).toBe(0);
  });

  it('new rows of an archived program wait in the default partition: maintain leaves them, check and monitor say so, restore moves them', async () => {
    const target = f.programs[1]!;
    const before = await programSum(f.client, target.key);
    const path = f.file('second.copy.gz');
    const a = await runCli(['archive', '--program', `key:${target.key}`, '--to', path, '--yes', '--json', '--url', f.db.url]);
    expect(resultOf(a), a.stdout).toMatchObject({ ok: true });
    await f.client.query(`INSERT INTO public.petri_observations (program_id, phase, petri_code) VALUES ($1, 'growth', 'after-archive'), ($1, 'growth', 'after-archive-2')`, [target.key]);
    const inDefault = await f.client.query(`SELECT count(*)::int AS n FROM ONLY public.petri_obs_default WHERE program_id = $1`, [target.key]);
    expect(inDefault.rows[0].n).toBe(2);

    const m = await runCli(['maintain', '--yes', '--json', '--url', f.db.url]);
    expect(resultOf(m), m.stdout).toMatchObject({ ok: true });
    expect((await partitions(f.client)).some((p) => p.bound.includes(target.key))).toBe(false);
    expect(m.events.some((e) => e.type === 'info' && String(e.message).includes(`archived program ${target.label}`))).toBe(true);

    const mon = await runCli(['monitor', '--url', f.db.url]);
    expect(mon.stdout + mon.stderr).toContain(`archived: ${target.label} (${target.key}) in ${path}`);
    expect(String(resultOf(await runCli(['monitor', '--json', '--url', f.db.url]))?.summary)).toContain(`1 program(s) archived (${target.label})`);
    const chk = await runCli(['check', '--json', '--url', f.db.url]);
    const item = chk.events.find((e) => e.type === 'check' && (e.item as { id: string }).id === 'archived')?.item as { details: string[] } | undefined;
    expect(item?.details).toEqual([`${target.label} (${target.key}): ${path}`]);

    const r = await runCli(['restore', '--from', path, '--yes', '--json', '--url', f.db.url]);
    expect(resultOf(r), r.stdout).toMatchObject({ ok: true, data: { moved: 2 } });
    const after = await programSum(f.client, target.key);
    expect(after.n).toBe(before.n + 2);
    const left = await f.client.query(`SELECT count(*)::int AS n FROM ONLY public.petri_obs_default WHERE program_id = $1`, [target.key]);
    expect(left.rows[0].n).toBe(0);
  });

  it('a damaged or edited archive is refused, and nothing is changed', async () => {
    const target = f.programs[2]!;
    const path = f.file('third.copy.gz');
    const a = await runCli(['archive', '--program', target.label, '--to', path, '--yes', '--json', '--url', f.db.url]);
    expect(resultOf(a), a.stdout).toMatchObject({ ok: true });
    const size = statSync(path).size;
    const variant = (name: string, damage: (data: string, manifest: string) => void) => {
      const p = f.file(name);
      copyFileSync(path, p);
      copyFileSync(`${path}.manifest.json`, `${p}.manifest.json`);
      damage(p, `${p}.manifest.json`);
      return p;
    };
    const cases: Array<[string, string, RegExp]> = [
      ['truncated gzip', variant('truncated.gz', (d) => truncateSync(d, Math.floor(size / 2))), /damaged or truncated|not the file the manifest describes/],
      ['a flipped bit', variant('flipped.gz', (d) => {
        const b = readFileSync(d);
        b[Math.floor(b.length / 2)] ^= 0x10;
        writeFileSync(d, b);
      }), /damaged|not the file the manifest describes/],
      ['an edited row count', variant('edited.gz', (_d, m) => {
        const j = JSON.parse(readFileSync(m, 'utf8'));
        j.rows += 1;
        writeFileSync(m, JSON.stringify(j));
      }), /was changed after partwise wrote it/],
      ['an edited manifest with its hash removed', variant('nohash.gz', (_d, m) => {
        const j = JSON.parse(readFileSync(m, 'utf8'));
        delete j.manifestSha256;
        writeFileSync(m, JSON.stringify(j));
      }), /has no manifestSha256/],
      ['another archive\'s data file', variant('swapped.gz', (d) => copyFileSync(f.file('second.copy.gz'), d)), /not the file the manifest describes/],
      ['a missing manifest', f.file('nothing-here.gz'), /does not exist/],
    ];
    for (const [what, p, message] of cases) {
      const before = await catalogState(f);
      const r = await runCli(['restore', '--from', p, '--yes', '--json', '--url', f.db.url]);
      expect(r.code, `${what}: ${r.stdout}`).toBe(3);
      expect(String(resultOf(r)?.summary), what).toMatch(message);
      expect(String(resultOf(r)?.summary), what).toContain('nothing was changed');
      expect(await catalogState(f), what).toEqual(before);
    }
    // the good one still restores
    const r = await runCli(['restore', '--from', path, '--yes', '--json', '--url', f.db.url]);
    expect(resultOf(r), r.stdout).toMatchObject({ ok: true });
  });
});
