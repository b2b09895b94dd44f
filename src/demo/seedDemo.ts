/**
 * Loads the demo dataset (sql/demo/schema.sql + sql/demo/seed.sql) so partwise
 * can be rehearsed on a realistic, awkward table without touching real data.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { withTransaction } from '../exec/transaction.js';

export interface SeedDemoOptions {
  rows: number;
  programs: number;
  /** Drop the demo objects and any partwise leftovers first. */
  reset?: boolean;
  onProgress?: (msg: string) => void;
}

type Queryable = pg.Client | pg.PoolClient;

/** Tables the demo and a (possibly interrupted) partwise run leave in public. */
const DEMO_TABLES = [
  'petri_images',
  'petri_observations',
  'petri_observations_partitioned',
  'petri_observations_old',
  'pilot_programs',
];

export async function seedDemo(client: Queryable, opts: SeedDemoOptions): Promise<void> {
  const { rows, programs } = opts;
  if (!Number.isInteger(rows) || rows < 10) throw new Error(`demo rows must be an integer >= 10 (got ${rows})`);
  if (!Number.isInteger(programs) || programs < 1 || programs > 10_000) {
    throw new Error(`demo programs must be an integer between 1 and 10000 (got ${programs})`);
  }
  const progress = opts.onProgress ?? (() => {});
  const root = packageRoot();
  const [schemaSql, seedSql] = await Promise.all([
    readFile(path.join(root, 'sql', 'demo', 'schema.sql'), 'utf8'),
    readFile(path.join(root, 'sql', 'demo', 'seed.sql'), 'utf8'),
  ]);

  const started = Date.now();
  // One transaction: a failed or interrupted seed leaves nothing half-built.
  // Hosted servers often set a statement_timeout shorter than a large seed.
  await withTransaction(client, { settings: [['statement_timeout', '0']] }, async () => {
    if (opts.reset) {
      progress('Removing the previous demo and partwise leftovers');
      await dropDemo(client);
    } else if (await demoObjectsExist(client)) {
      throw new Error('The demo tables already exist in this database; reset them to seed again.');
    }
    progress('Creating the demo schema');
    await client.query(schemaSql);
    progress(`Generating ${rows.toLocaleString('en-US')} observations across ${programs} programs`);
    await client.query(
      "SELECT set_config('partwise.demo_rows', $1, false), set_config('partwise.demo_programs', $2, false)",
      [String(rows), String(programs)],
    );
    await client.query(seedSql);
  });
  progress(`Demo ready in ${((Date.now() - started) / 1000).toFixed(1)}s`);
}

/** True when the demo table exists and has rows (also after partwise converted it). */
export async function isDemoSeeded(client: Queryable): Promise<boolean> {
  const { rows } = await client.query<{ present: boolean }>(
    "SELECT to_regclass('public.petri_observations') IS NOT NULL AND to_regclass('public.pilot_programs') IS NOT NULL AS present",
  );
  if (!rows[0]?.present) return false;
  const seeded = await client.query<{ any: boolean }>('SELECT EXISTS (SELECT 1 FROM public.petri_observations) AS any');
  return seeded.rows[0]?.any === true;
}

async function demoObjectsExist(client: Queryable): Promise<boolean> {
  const { rows } = await client.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace
      WHERE ns.nspname = 'public' AND c.relname = ANY($1::text[])`,
    [DEMO_TABLES],
  );
  return (rows[0]?.n ?? 0) > 0;
}

async function dropDemo(client: Queryable): Promise<void> {
  await client.query('DROP SCHEMA IF EXISTS partwise CASCADE');
  await client.query('DROP PUBLICATION IF EXISTS partwise_demo_pub');
  // Partitions (at any depth) of the demo tables, found through pg_inherits so
  // that no unrelated table is dropped because of its name.
  const partitions = await client.query<{ nspname: string; relname: string }>(
    `WITH RECURSIVE parents AS (
       SELECT c.oid FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace
        WHERE ns.nspname = 'public' AND c.relname = ANY($1::text[])
     ), tree AS (
       SELECT i.inhrelid AS oid, 1 AS depth FROM pg_inherits i JOIN parents p ON i.inhparent = p.oid
       UNION ALL
       SELECT i.inhrelid, t.depth + 1 FROM pg_inherits i JOIN tree t ON i.inhparent = t.oid
     )
     SELECT ns.nspname, c.relname
       FROM tree JOIN pg_class c ON c.oid = tree.oid JOIN pg_namespace ns ON ns.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p')
      ORDER BY tree.depth DESC`,
    [DEMO_TABLES],
  );
  for (const { nspname, relname } of partitions.rows) {
    await client.query(`DROP TABLE IF EXISTS ${pg.escapeIdentifier(nspname)}.${pg.escapeIdentifier(relname)} CASCADE`);
  }
  await client.query('DROP VIEW IF EXISTS public.petri_observations_recent');
  await client.query(`DROP TABLE IF EXISTS ${DEMO_TABLES.map((t) => `public.${pg.escapeIdentifier(t)}`).join(', ')} CASCADE`);
  await client.query('DROP TYPE IF EXISTS public.observation_phase CASCADE');
}

/** The directory holding package.json: src/demo/ when run from source, dist/demo/ when built. */
function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('partwise: cannot find package.json above the demo seeder');
    dir = parent;
  }
}
