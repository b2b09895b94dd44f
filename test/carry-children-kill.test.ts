/**
 * Issue 17: the back-fill of a carried child's key column, killed (SIGKILL) in the middle and resumed by the next
 * migrate at its checkpoint; an INVALID index left by a killed CREATE INDEX CONCURRENTLY is dropped and built again.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { engineContext } from './helpers/engine.js';
import { cleanEnv } from './helpers/env.js';
import { BIN, resultOf, runCli } from './helpers/cli.js';
import { childMismatches } from './helpers/children.js';
import { seedDemo } from '../src/demo/seedDemo.js';
import { runCreate } from '../src/steps/create.js';

interface ChildLine { type: string; child: string; blocksDone: number; blocks: number; state: string }

const childLines = (out: string): ChildLine[] =>
  out.split('\n').filter((l) => l.includes('"child.progress"')).map((l) => JSON.parse(l) as ChildLine);

describe('the back-fill of a carried child, killed and resumed', () => {
  let db: TestDatabase;
  let client: pg.Client;
  beforeAll(async () => {
    db = await createTestDatabase('pw_test_carry_kill');
    client = new pg.Client(db.config);
    await client.connect();
    await seedDemo(client, { rows: 3000, programs: 3 });
    await client.query(`
      CREATE TABLE public.obs_parts (part_id bigserial PRIMARY KEY, observation_id uuid NOT NULL REFERENCES public.petri_observations (observation_id), n int);
      INSERT INTO public.obs_parts (observation_id, n)
        SELECT o.observation_id, g FROM public.petri_observations o, generate_series(1, 20) g WHERE o.program_id IS NOT NULL;`);
  });
  afterAll(async () => {
    await client?.end();
    await db?.drop();
  });

  it('SIGKILL during the back-fill, then migrate again: it resumes at the checkpoint, fills every row and indexes the child', async () => {
    const { ctx, close } = await engineContext(db.config);
    try {
      expect((await runCreate(ctx)).exitCode).toBe(0);
    } finally {
      await close();
    }
    const child = spawn(process.execPath, [BIN, 'migrate', '--mode', 'all', '--batch-size', '400', '--sleep-ms', '20', '--url', db.url, '--yes', '--json'], {
      env: cleanEnv({ NO_COLOR: '1' }), stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const filling = new Promise<boolean>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d;
        if (childLines(out).some((l) => l.state === 'filling' && l.blocksDone >= 3)) resolve(true);
      });
      void exited.then(() => resolve(false));
    });
    const killed = await filling;
    child.kill('SIGKILL');
    await exited;
    expect(killed, `migrate ended before its back-fill was under way:\n${out.slice(-2000)}`).toBe(true);

    const cp = (await client.query(`SELECT next_block::int AS next, end_block::int AS "end", done FROM partwise.child_backfill`)).rows[0];
    expect(cp.done).toBe(false);
    expect(cp.next).toBeGreaterThan(0);
    expect(cp.next).toBeLessThan(cp.end);
    expect(await childMismatches(client, 'public.obs_parts')).toBeGreaterThan(0);

    // a killed CREATE INDEX CONCURRENTLY leaves an INVALID index behind: made here by a unique build that fails on duplicates, under the name partwise uses
    await expect(client.query(`CREATE UNIQUE INDEX CONCURRENTLY obs_parts_observation_id_program_id_idx ON public.obs_parts (n)`)).rejects.toMatchObject({ code: '23505' });
    expect((await client.query(`SELECT indisvalid FROM pg_index WHERE indexrelid = 'public.obs_parts_observation_id_program_id_idx'::regclass`)).rows[0].indisvalid).toBe(false);

    const again = await runCli(['migrate', '--mode', 'all', '--batch-size', '2000', '--url', db.url, '--yes', '--json']);
    expect(again.code, again.stdout.slice(-2000)).toBe(0);
    expect(resultOf(again)?.ok).toBe(true);
    const resumed = childLines(again.stdout);
    expect(resumed[0]!.blocksDone).toBe(cp.next);
    expect(resumed.at(-1)!.state).toBe('done');
    expect(await childMismatches(client, 'public.obs_parts')).toBe(0);
    const ix = await client.query(`SELECT indexrelid::regclass::text AS name, indisvalid, pg_get_indexdef(indexrelid) AS def FROM pg_index WHERE indrelid = 'public.obs_parts'::regclass AND indexrelid <> 'public.obs_parts_pkey'::regclass`);
    expect(ix.rows).toEqual([{ name: 'obs_parts_observation_id_program_id_idx', indisvalid: true, def: 'CREATE INDEX obs_parts_observation_id_program_id_idx ON public.obs_parts USING btree (observation_id, program_id)' }]);
  });
});
