/**
 * finish --drop-old never suggests CASCADE (which would drop an inheritance child with its rows): it names what depends
 * on the old table and changes nothing; once they are gone it drops the old table.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_CASCADE, personError } from '../src/exec/errors.js';
import { runMigrate } from '../src/steps/migrate.js';
import { runSwap } from '../src/steps/swap.js';
import { runVerifyData } from '../src/steps/verifyData.js';
import { resultOf, runCli } from './helpers/cli.js';
import { copiedColumnList, moveFixture, type MoveFixture } from './helpers/moveSetup.js';

describe('finish --drop-old', () => {
  let f: MoveFixture;
  beforeAll(async () => {
    f = await moveFixture('finish_drop_old', { rows: 3000, programs: 3 });
    for (const [name, r] of [['migrate', await runMigrate(f.ctx(), { mode: 'all' })], ['verify --data', await runVerifyData(f.ctx())], ['swap', await runSwap(f.ctx())]] as const)
      if (!r.ok) throw new Error(`${name}: ${r.summary}`);
    const cols = await copiedColumnList(f.client, 'public.petri_observations_old');
    await f.client.query(`
      CREATE VIEW public.old_view AS SELECT observation_id FROM public.petri_observations_old;
      CREATE TABLE public.old_child () INHERITS (public.petri_observations_old);
      INSERT INTO public.old_child (${cols}) SELECT ${cols} FROM ONLY public.petri_observations_old LIMIT 7;
      CREATE TABLE public.old_ref (id uuid REFERENCES public.petri_observations_old (observation_id));
      CREATE FUNCTION public.old_row_fn(r public.petri_observations_old) RETURNS int LANGUAGE sql AS 'SELECT 1';`);
  });
  afterAll(async () => f?.close());

  it('names every dependent, never suggests CASCADE, and changes nothing', async () => {
    const r = await runCli(['finish', '--yes', '--drop-old', '--json', '--url', f.db.url]);
    expect(r.code).toBe(3);
    const summary = String(resultOf(r)?.summary);
    expect(summary).toContain('view public.old_view');
    expect(summary).toContain('table public.old_child (an inheritance child: it would go with its rows)');
    expect(summary).toContain('constraint old_ref_id_fkey on table public.old_ref');
    expect(summary).toContain('function public.old_row_fn(public.petri_observations_old)');
    expect(r.stdout + r.stderr).not.toMatch(/Use DROP|CASCADE to drop/);
    expect(summary).toContain('Nothing was changed');
    const still = await f.client.query(`SELECT to_regclass('public.petri_observations_old') IS NOT NULL AS old, (SELECT count(*)::int FROM public.old_child) AS child,
      (SELECT count(*)::int FROM pg_trigger WHERE tgname LIKE 'partwise_capture%') AS capture`);
    expect(still.rows[0]).toEqual({ old: true, child: 7, capture: still.rows[0].capture });
    expect(still.rows[0].capture).toBeGreaterThan(0);
  });

  it('a server refusal to drop is told without its CASCADE hint', async () => {
    const e = await f.client.query('DROP TABLE public.petri_observations_old').then(() => null, (x: unknown) => x);
    const p = personError(e);
    expect(p.code).toBe('2BP01');
    expect(p.serverHint).toBe(NO_CASCADE);
    expect(p.serverDetail).toContain('view old_view depends on table petri_observations_old');
  });

  it('drops the old table once nothing depends on it', async () => {
    await f.client.query('DROP VIEW public.old_view; DROP TABLE public.old_child, public.old_ref; DROP FUNCTION public.old_row_fn');
    const r = await runCli(['finish', '--yes', '--drop-old', '--json', '--url', f.db.url]);
    expect(resultOf(r), r.stdout).toMatchObject({ ok: true, exitCode: 0 });
    expect((await f.client.query(`SELECT to_regclass('public.petri_observations_old') AS t`)).rows[0].t).toBeNull();
  });
});
