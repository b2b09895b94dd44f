/**
 * Archive and restore tests: the demo migrated, verified, swapped and finished by the real steps, so that
 * public.petri_observations is the partitioned table; a temporary directory for the archive files; helpers that read
 * one program's partition, its checksum, and a writer on the other programs.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { runFinish } from '../../src/steps/finish.js';
import { runMigrate } from '../../src/steps/migrate.js';
import { runSwap } from '../../src/steps/swap.js';
import { runVerifyData } from '../../src/steps/verifyData.js';
import { connect, moveFixture, type MoveFixture } from './moveSetup.js';
import { serverTempDir } from './tempDir.js';

export interface ArchiveFixture extends MoveFixture {
  dir: string;
  file(name: string): string;
  /** the programs by creation order: key and label */
  programs: Array<{ key: string; label: string }>;
}

export async function archiveFixture(prefix: string, opts: { rows?: number; programs?: number } = {}): Promise<ArchiveFixture> {
  const f = await moveFixture(prefix, { rows: opts.rows ?? 6000, programs: opts.programs ?? 4 });
  for (const [name, r] of [
    ['migrate', await runMigrate(f.ctx(), { mode: 'all' })], ['verify --data', await runVerifyData(f.ctx())], ['swap', await runSwap(f.ctx())], ['finish', await runFinish(f.ctx(), { dropOld: false })],
  ] as const)
    if (!r.ok) throw new Error(`${name}: ${r.summary}`);
  const dir = serverTempDir('pw-archive-');
  const programs = (await f.client.query<{ key: string; label: string }>(`SELECT program_id::text AS key, name AS label FROM public.pilot_programs ORDER BY created_at`)).rows;
  return {
    ...f, dir, programs, file: (name) => join(dir, name),
    async close() {
      rmSync(dir, { recursive: true, force: true });
      await f.close();
    },
  };
}

/** Count and an order-independent checksum of one program's whole rows (every column) as the application sees them. */
export async function programSum(client: pg.Client, key: string): Promise<{ n: number; h: string }> {
  const r = await client.query(
    `SELECT count(*)::int AS n, coalesce(sum(hashtext(p::text)::numeric), 0)::text AS h FROM public.petri_observations p WHERE program_id = $1`,
    [key],
  );
  return { n: r.rows[0].n, h: r.rows[0].h };
}

/** The partitions of the table: name and bound. */
export async function partitions(client: pg.Client): Promise<Array<{ name: string; bound: string }>> {
  const r = await client.query(`SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'public.petri_observations'::regclass ORDER BY 1`);
  return r.rows;
}

/** Inserts, updates and deletes rows of the given programs only, as fast as it can with a short pause. */
export async function writerOn(config: pg.ClientConfig, keys: string[]): Promise<{ stop(): Promise<{ ops: number; errors: string[] }> }> {
  const c = await connect(config);
  let running = true;
  let ops = 0;
  const errors: string[] = [];
  const loop = (async () => {
    for (let n = 1; running; n++) {
      const key = keys[n % keys.length]!;
      try {
        if (n % 3 === 0) await c.query(`UPDATE public.petri_observations SET growth_index = $2 WHERE observation_id = (SELECT observation_id FROM public.petri_observations WHERE program_id = $1 LIMIT 1)`, [key, n % 100]);
        else if (n % 7 === 0) await c.query(`DELETE FROM public.petri_observations WHERE observation_id = (SELECT observation_id FROM public.petri_observations WHERE program_id = $1 LIMIT 1)`, [key]);
        else await c.query(`INSERT INTO public.petri_observations (program_id, phase, petri_code, growth_index) VALUES ($1, 'growth', 'W-' || $2::text, $2::int % 100)`, [key, n]);
        ops++;
      } catch (e) {
        errors.push((e as Error).message);
      }
      await new Promise((r) => setTimeout(r, 2));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      await c.end().catch(() => undefined);
      return { ops, errors };
    },
  };
}
