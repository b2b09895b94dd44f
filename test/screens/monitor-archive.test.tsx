import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../../src/cli/commands.js';
import { engineContext } from '../helpers/engine.js';
import { serverTempDir } from '../helpers/tempDir.js';
import { demoDatabase, KEY, renderApp, type DatabaseFixture, type Harness } from './harness.js';

/**
 * a on Monitor archives the selected program's partition, after the name is typed (as the swap asks for the table's):
 * a wrong name does nothing, the right one runs archive into the current directory; the monitor then lists it as
 * archived. On the default partition it says why not.
 */
describe('Monitor screen: a archives the selected partition', () => {
  let fx: DatabaseFixture;
  let app: Harness;
  let dir: string;
  const home = process.cwd();

  beforeAll(async () => {
    fx = await demoDatabase({ rows: 2000, programs: 3 });
    await fx.admin.query(`DO $$ DECLARE r record; BEGIN
      FOR r IN SELECT conname, conrelid::regclass AS rel FROM pg_constraint WHERE contype = 'f' AND confrelid = 'public.petri_observations'::regclass LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', r.rel, r.conname);
      END LOOP; END $$`);
    const { ctx, close } = await engineContext(fx.db.config);
    try {
      for (const [command, flags] of [['create', {}], ['migrate', { mode: 'all' }], ['verify', { data: true }], ['swap', {}], ['finish', {}]] as const) {
        const r = await runCommand(command, ctx, flags);
        expect(r.ok, `${command}: ${r.summary}`).toBe(true);
      }
    } finally {
      await close();
    }
    // the app writes the archive to the current directory: this test's own (the test runs in a process of its own)
    dir = serverTempDir('pw-monitor-archive-');
    process.chdir(dir);
    app = await renderApp(fx, { initialStep: 'monitor' });
  });
  afterAll(async () => {
    process.chdir(home);
    await app?.close();
    await fx?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('asks for the partition name, refuses a wrong one, archives with the right one', async () => {
    const f = await app.waitFor('total (4)');
    // sorted by total size, the first row is the biggest program's partition
    // rows start with the selection marker (› or a space)
    const first = f.split('\n').map((l) => l.replace(/^[› ] /, '')).find((l) => l.startsWith('petri_obs_prog_'))!;
    const big = (await fx.admin.query(`SELECT program_id::text AS k FROM public.petri_observations GROUP BY 1 ORDER BY count(*) DESC LIMIT 1`)).rows[0].k as string;
    const part = (await fx.admin.query(`SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = 'public.petri_observations'::regclass AND pg_get_expr(c.relpartbound, c.oid) LIKE '%' || $1 || '%'`, [big])).rows[0].relname as string;
    expect(first.startsWith(part.slice(0, 24))).toBe(true);
    await app.press('a');
    await app.waitFor(`Type ${part}`);
    await app.press('petri_observations', KEY.enter);
    await app.waitFor('That is not the partition name');
    await app.press(part, KEY.enter);
    await app.waitFor(/archived: \d[\d,]* row\(s\)/, 60_000);
    const files = readdirSync(dir);
    expect(files.some((n) => n.startsWith(`${part}-`) && n.endsWith('.copy.gz'))).toBe(true);
    expect(existsSync(join(dir, `${files.find((n) => n.endsWith('.copy.gz'))!}.manifest.json`))).toBe(true);
    expect((await fx.admin.query(`SELECT to_regclass($1) AS t`, [`public.${part}`])).rows[0].t).toBeNull();
    await app.waitFor(`archived: `, 30_000);
  });

  it('on the default partition it says why not, and runs nothing', async () => {
    await app.press('o', 'o');
    await app.waitFor(/partition▲/);
    // sorted by name, the default partition comes first
    await app.press('a');
    await app.waitFor('is not one program\'s partition');
  });
});
