/**
 * A source without row level security. create turns RLS on for the copy (it is reachable through the API while it
 * fills); the swap must turn it off on the table the application reads, or every role but the owner sees no rows and
 * writes none. Rollback restores the copy's RLS, so the next swap's gate still finds the structure it verified.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createTestDatabase, withClient, type TestDatabase } from './helpers/db.js';
import { engineContext } from './helpers/engine.js';
import { runCreate } from '../src/steps/create.js';
import { runMigrate } from '../src/steps/migrate.js';
import { runRollback } from '../src/steps/rollback.js';
import { runSwap } from '../src/steps/swap.js';
import { runVerifyData } from '../src/steps/verifyData.js';

const ROLE = `pw_plain_app_${randomBytes(4).toString('hex')}`;
const CFG = { table: 'readings', lookup: 'programs' };

/** What the application role sees and can write through the original name. */
async function asApp(config: pg.ClientConfig, id: number): Promise<{ rows: number; inserted: number }> {
  return withClient(config, async (c) => {
    await c.query(`SET ROLE ${pg.escapeIdentifier(ROLE)}`);
    const ins = await c.query(`INSERT INTO public.readings (id, program_id, v) VALUES ($1, 1, 0)`, [id]);
    const n = await c.query(`SELECT count(*)::int AS n FROM public.readings`);
    return { rows: n.rows[0].n, inserted: ins.rowCount ?? 0 };
  });
}

describe('a source without row level security', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('pw_rls_off');
    await withClient(db.config, async (c) => {
      await c.query(`CREATE ROLE ${pg.escapeIdentifier(ROLE)}`);
      await c.query(`
        CREATE TABLE public.programs (program_id int PRIMARY KEY, name text);
        INSERT INTO public.programs VALUES (1, 'one'), (2, 'two');
        CREATE TABLE public.readings (id bigint PRIMARY KEY, program_id int NOT NULL, v int);
        INSERT INTO public.readings SELECT g, 1 + g % 2, g FROM generate_series(1, 500) g;
        GRANT SELECT, INSERT ON public.readings TO ${pg.escapeIdentifier(ROLE)};`);
    });
  });
  afterAll(async () => {
    await db?.drop();
    await withClient({ ...db.config, database: 'postgres' }, (c) => c.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(ROLE)}`)).catch(() => undefined);
  });

  it('stays readable and writable by the application role after the swap, after rollback and after a second swap', async () => {
    const { ctx, close } = await engineContext(db.config, CFG);
    try {
      for (const step of [runCreate, (c: typeof ctx) => runMigrate(c, { mode: 'all' }), runVerifyData, runSwap]) {
        const r = await step(ctx);
        expect(r.summary).toBeTruthy();
        expect(r.ok, r.summary).toBe(true);
      }
      expect(await asApp(db.config, 10_001)).toEqual({ rows: 501, inserted: 1 });
      const rlsAfterSwap = await ctx.client.query(`SELECT relrowsecurity FROM pg_class WHERE oid = 'public.readings'::regclass`);
      expect(rlsAfterSwap.rows[0].relrowsecurity).toBe(false);

      const back = await runRollback(ctx);
      expect(back.ok, back.summary).toBe(true);
      expect(await asApp(db.config, 10_002)).toEqual({ rows: 502, inserted: 1 });

      for (const step of [runVerifyData, runSwap]) {
        const r = await step(ctx);
        expect(r.ok, r.summary).toBe(true);
      }
      expect(await asApp(db.config, 10_003)).toEqual({ rows: 503, inserted: 1 });
    } finally {
      await close();
    }
  });
});
