/**
 * partwise verify --data through the real command: equal after migrate, exit 3 with the program and a sample key
 * listed when one row of the new table is tampered with, and the result journaled for swap.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { latestDataVerification } from '../src/move/checksum.js';
import { runMigrate } from '../src/steps/migrate.js';
import { resultOf, runCli } from './helpers/cli.js';
import { moveFixture, type MoveFixture } from './helpers/moveSetup.js';

describe('verify --data', () => {
  let f: MoveFixture;
  beforeAll(async () => {
    f = await moveFixture('verify_data', {
      rows: 5000, programs: 4,
      // a json column has no hash function: it must be hashed as text
      beforeCreate: async (c) => {
        await c.query(`ALTER TABLE public.petri_observations ADD COLUMN raw json`);
        await c.query(`UPDATE public.petri_observations SET raw = json_build_object('n', seq_no) WHERE seq_no % 3 = 0`);
      },
    });
    const r = await runMigrate(f.ctx(), { mode: 'all' });
    expect(r.ok).toBe(true);
  });
  afterAll(async () => f?.close());

  const verify = () => runCli(['verify', '--data', '--json', '--url', f.db.url]);

  it('reports equality for every program and journals it', async () => {
    const run = await verify();
    expect(run.code).toBe(0);
    // 4 programs and the 2 keys without a lookup row (the demo's orphans), each compared on its own
    expect(resultOf(run)?.summary).toMatch(/data verified: 6 program\(s\), 5000 row\(s\)/);
    const items = run.events.filter((e) => e.type === 'verify').map((e) => (e.item as { status: string }).status);
    expect(items).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'ok']);
    expect(await latestDataVerification(f.client, f.cfg)).toMatchObject({ ok: true, programs: 6, rowsCompared: 5000 });
  });

  it('finds one tampered row (same count, different value), lists the program and the key, exits 3', async () => {
    const row = (await f.client.query(`SELECT o.observation_id::text AS id, p.name FROM public.petri_observations_partitioned o JOIN public.pilot_programs p USING (program_id) ORDER BY o.observation_id LIMIT 1`)).rows[0];
    await f.client.query(`UPDATE public.petri_observations_partitioned SET raw = '{"tampered": true}' WHERE observation_id = $1`, [row.id]);
    const run = await verify();
    expect(run.code).toBe(3);
    expect(resultOf(run)?.summary).toContain(`1 program(s) differ: ${row.name}`);
    const fail = run.events.find((e) => e.type === 'verify' && (e.item as { status: string }).status === 'fail')!.item as { reason: string; details: string[] };
    expect(fail.reason).toMatch(/source (\d+) row\(s\), petri_observations_partitioned \1 row\(s\); checksums differ/);
    expect(fail.details.join('\n')).toContain(row.id);
    expect(await latestDataVerification(f.client, f.cfg)).toMatchObject({ ok: false });
  });

  it('finds a missing row by its count', async () => {
    await f.client.query(`UPDATE public.petri_observations_partitioned t SET raw = s.raw FROM public.petri_observations s WHERE s.observation_id = t.observation_id AND t.raw::text = '{"tampered": true}'`);
    expect((await verify()).code).toBe(0);
    const id = (await f.client.query(`SELECT observation_id::text AS id FROM public.petri_observations_partitioned ORDER BY observation_id DESC LIMIT 1`)).rows[0].id;
    await f.client.query(`DELETE FROM public.petri_observations_partitioned WHERE observation_id = $1`, [id]);
    const run = await verify();
    expect(run.code).toBe(3);
    const fail = run.events.find((e) => e.type === 'verify' && (e.item as { status: string }).status === 'fail')!.item as { reason: string; details: string[] };
    expect(fail.reason).toMatch(/source (\d+) row\(s\), petri_observations_partitioned (\d+) row\(s\)/);
    expect(fail.details.join('\n')).toContain(id);
  });
});
