/**
 * check on what a partitioned table cannot carry: unique indexes the key cannot simply be appended to (a failure,
 * and the swap refuses), plain ones that gain it (a warning), and a nullable key (a warning with the way to NOT NULL).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, withClient, type TestDatabase } from './helpers/db.js';
import { engineContext } from './helpers/engine.js';
import { takeSnapshot } from '../src/catalog/snapshot.js';
import type { ConfigInput } from '../src/config/config.js';
import type { CheckItem } from '../src/events.js';
import { planSwap } from '../src/plan/planSwap.js';
import { runCheck } from '../src/steps/check.js';
import { runCreate } from '../src/steps/create.js';

const CFG: ConfigInput = { table: 'obs', key: 'program_id', lookup: 'programs', lookupKey: 'program_id', lookupLabel: 'name', partitionName: 'obs_{key}', defaultPartition: 'obs_default' };
const checkItem = (data: unknown, id: string) => (data as { items: CheckItem[] }).items.find((i) => i.id === id);

describe('check: unique indexes and a nullable key', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('pw_test_check_carry');
    await withClient(db.config, (c) => c.query(`
      CREATE TABLE public.programs (program_id int PRIMARY KEY, name text);
      INSERT INTO public.programs VALUES (1, 'one'), (2, 'two');
      CREATE TABLE public.obs (id bigint PRIMARY KEY, program_id int, email text, code text, n int);
      INSERT INTO public.obs SELECT g, 1 + g % 2, 'e' || g, 'c' || g, g FROM generate_series(1, 100) g;
      CREATE UNIQUE INDEX obs_email_lower ON public.obs (lower(email));
      CREATE UNIQUE INDEX obs_code_partial ON public.obs (code) WHERE n > 0;
      CREATE UNIQUE INDEX obs_n_incl ON public.obs (n) INCLUDE (code);
      CREATE UNIQUE INDEX obs_code_plain ON public.obs (code);
      CREATE UNIQUE INDEX obs_email_key ON public.obs (lower(email), program_id);
    `));
  });
  afterAll(async () => db?.drop());

  it('fails on unique indexes without the key that are not a plain btree, warns on the rest, and the swap refuses', async () => {
    const { ctx, close } = await engineContext(db.config, CFG);
    try {
      const check = await runCheck(ctx);
      expect(check.exitCode).toBe(3);
      const uniques = checkItem(check.data, 'unique-indexes')!;
      expect(uniques.status).toBe('fail');
      expect(uniques.details).toEqual([
        expect.stringMatching(/^CREATE UNIQUE INDEX obs_code_partial .* WHERE \(n > 0\)$/),
        expect.stringMatching(/^CREATE UNIQUE INDEX obs_email_lower .*\(lower\(email\)\)$/),
        expect.stringMatching(/^CREATE UNIQUE INDEX obs_n_incl .* INCLUDE \(code\)$/),
      ]);
      expect(uniques.todo).toContain('DROP INDEX CONCURRENTLY "public"."obs_code_partial"');
      expect(checkItem(check.data, 'uniqueness')!.details).toEqual([
        expect.stringMatching(/^PRIMARY KEY \(id\) becomes \(id, program_id\)/),
        expect.stringMatching(/^unique index obs_code_plain \(code\) becomes \(code, program_id\)/),
      ]);

      // create carries the plain one extended and the one with the key as it is, not the three others
      expect((await runCreate(ctx)).exitCode).toBe(0);
      const onCopy = await ctx.client.query(`SELECT pg_get_indexdef(indexrelid) AS d FROM pg_index WHERE indrelid = 'public.obs_partitioned'::regclass AND NOT indisprimary ORDER BY 1`);
      expect(onCopy.rows.map((r) => r.d)).toEqual([
        'CREATE UNIQUE INDEX obs_partitioned_code_plain ON ONLY public.obs_partitioned USING btree (code, program_id)',
        'CREATE UNIQUE INDEX obs_partitioned_email_key ON ONLY public.obs_partitioned USING btree (lower(email), program_id)',
      ]);
      const snap = await takeSnapshot(ctx.client, ctx.cfg);
      expect(() => planSwap(snap, ctx.cfg)).toThrow(/unique indexes without the key: CREATE UNIQUE INDEX obs_code_partial/);
    } finally {
      await close();
    }
  });

  it('warns on a nullable key, saying what happens to NULL-key writes; its recipe makes the key NOT NULL', async () => {
    const { ctx, close } = await engineContext(db.config, CFG);
    try {
      const nullable = checkItem((await runCheck(ctx)).data, 'key-nullable')!;
      expect(nullable.status).toBe('warn');
      expect(nullable.reason).toMatch(/replay stops at it and the swap refuses/);
      expect(nullable.reason).toMatch(/After the swap program_id is NOT NULL .* inserts with a NULL program_id fail/);
      const recipe = /ALTER TABLE .* DROP CONSTRAINT "[^"]+"/.exec(nullable.todo ?? '')![0];
      expect(recipe).toMatch(/ADD CONSTRAINT "obs_program_id_not_null" CHECK \("program_id" IS NOT NULL\) NOT VALID; .*VALIDATE CONSTRAINT .*SET NOT NULL; /);
      await ctx.client.query(recipe);
      expect(checkItem((await runCheck(ctx)).data, 'key-nullable')).toMatchObject({ status: 'ok', reason: 'program_id is NOT NULL' });
      expect((await ctx.client.query(`SELECT count(*)::int AS n FROM pg_constraint WHERE conrelid = 'public.obs'::regclass AND contype = 'c'`)).rows[0].n).toBe(0);
    } finally {
      await close();
    }
  });
});
