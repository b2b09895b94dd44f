import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../../src/cli/commands.js';
import { engineContext } from '../helpers/engine.js';
import { demoDatabase, renderApp, type DatabaseFixture, type Harness } from './harness.js';

/** The monitor's partition size table on a real database: it refreshes from the catalog as a partition grows. */
describe('Monitor screen (real database)', () => {
  let fx: DatabaseFixture;
  let app: Harness;
  // long partition names are cut to the column's width: their first 24 characters are unique here (uuid keys)
  // each row starts with the selection mark column (› on the selected row, a space on the others)
  const cellsOf = (line: string) => line.replace(/^[› ] /, '');
  const rowsOf = (frame: string, partition: string) => frame.split('\n').find((l) => cellsOf(l).startsWith(partition.slice(0, 24))) ?? '';

  beforeAll(async () => {
    fx = await demoDatabase({ rows: 3000, programs: 4 });
    const { ctx, close } = await engineContext(fx.db.config);
    try {
      const r = await runCommand('create', ctx, {});
      expect(r.ok).toBe(true);
    } finally {
      await close();
    }
    app = await renderApp(fx, { initialStep: 'monitor' });
  });
  afterAll(async () => {
    await app?.close();
    await fx?.close();
  });

  it('shows every partition with a totals row, sorted by total size', async () => {
    const f = await app.waitFor('total (5)');
    expect(f).toContain('7. Monitor');
    expect(f).toContain('petri_obs_default');
    expect(f).toMatch(/partition\s+program\s+est\. rows\s+total▼/);
    expect(f).toContain('every 2 s');
  });

  it('refreshes when a partition grows (rows copied in, then analyzed)', async () => {
    const biggest = (await fx.admin.query(
      `SELECT program_id FROM public.petri_observations GROUP BY 1 ORDER BY count(*) DESC LIMIT 1`)).rows[0].program_id as string;
    const part = (await fx.admin.query(
      `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'public.petri_observations_partitioned'::regclass AND pg_get_expr(c.relpartbound, c.oid) LIKE '%' || $1 || '%'`, [biggest])).rows[0].relname as string;
    const before = rowsOf(await app.waitFor(part.slice(0, 24)), part);
    expect(before).toMatch(/~0 /); // an empty heap: no rows, analyzed or not
    await fx.admin.query(`SELECT set_config('statement_timeout', '0', false)`);
    const cols = (await fx.admin.query(
      `SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) AS c FROM pg_attribute
        WHERE attrelid = 'public.petri_observations'::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = ''`)).rows[0].c as string;
    await fx.admin.query(`INSERT INTO public.petri_observations_partitioned (${cols}) OVERRIDING SYSTEM VALUE SELECT ${cols} FROM public.petri_observations WHERE program_id = $1`, [biggest]);
    await fx.admin.query(`ANALYZE public.${part}`);
    const n = Number((await fx.admin.query(`SELECT count(*) AS n FROM public.${part}`)).rows[0].n);
    expect(n).toBeGreaterThan(0);
    // the next refresh (every 2 s) shows the estimate; sorted by size, the grown partition comes first
    const after = await app.waitFor((f) => rowsOf(f, part).includes(`~${n.toLocaleString('en-US')}`), 30_000);
    const firstRow = after.split('\n').findIndex((l) => cellsOf(l).startsWith('petri_obs_'));
    expect(after.split('\n')[firstRow]).toContain(part.slice(0, 24));
  });

  it('c counts the selected partition exactly; o cycles the sort; +/- change the interval; r refreshes', async () => {
    await app.press('c');
    await app.waitFor(/\d[\d,]* =/);
    await app.press('o');
    await app.waitFor(/est\. rows▼/);
    await app.press('o');
    // names sort ascending: the arrow points up
    const byName = await app.waitFor(/partition▲/);
    expect(byName).not.toMatch(/▼/);
    await app.press('+');
    await app.waitFor('every 5 s');
    await app.press('-', '-', '-');
    await app.waitFor('every 0.5 s');
    await app.press('-');
    await app.waitFor('every 0.5 s');
    await app.press('r');
    await app.waitFor('7. Monitor');
  });

  it('highlights the default partition with the maintain hint when it holds rows', async () => {
    await fx.admin.query(
      `INSERT INTO public.petri_observations_partitioned (program_id, observed_at) SELECT gen_random_uuid(), now() FROM generate_series(1, 3)`,
    ).catch(async (e) => {
      throw new Error(`arranging rows in the default partition failed: ${(e as Error).message}`);
    });
    const f = await app.waitFor('the default partition holds rows', 30_000);
    expect(f).toContain('partwise maintain --yes');
    expect(f).toMatch(/petri_obs_default \(!\)/);
  });
});
