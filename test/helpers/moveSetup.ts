/**
 * Shared setup for the data-moving tests: a fresh database with the small demo, the partitioned copy created by the
 * real create step, and a StepContext that records events.
 */
import pg from 'pg';
import { resolveConfig, type Config } from '../../src/config/config.js';
import { seedDemo } from '../../src/demo/seedDemo.js';
import type { EngineEvent } from '../../src/events.js';
import { DEFAULT_RETRY } from '../../src/exec/retry.js';
import type { StepContext } from '../../src/steps/context.js';
import { runCreate } from '../../src/steps/create.js';
import { createTestDatabase, type TestDatabase } from './db.js';

export interface MoveFixture {
  db: TestDatabase;
  client: pg.Client;
  cfg: Config;
  events: EngineEvent[];
  ctx: (signal?: AbortSignal, onEvent?: (e: EngineEvent) => void) => StepContext;
  close(): Promise<void>;
}

export async function connect(config: pg.ClientConfig): Promise<pg.Client> {
  const c = new pg.Client(config);
  c.on('error', () => undefined);
  await c.connect();
  return c;
}

/**
 * The demo's child table references observation_id alone, which create treats as a blocker
 * (docs/behaviours/foreign-key-into-partitioned-table.md).
 */
export async function dropDemoForeignKeysIn(client: pg.Client): Promise<void> {
  await client.query(`DO $$ DECLARE r record; BEGIN
    FOR r IN SELECT conname, conrelid::regclass AS rel FROM pg_constraint
              WHERE contype = 'f' AND confrelid = 'public.petri_observations'::regclass LOOP
      EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', r.rel, r.conname);
    END LOOP; END $$`);
}

export async function moveFixture(prefix: string, opts: { rows?: number; programs?: number; beforeCreate?: (c: pg.Client) => Promise<void> } = {}): Promise<MoveFixture> {
  const db = await createTestDatabase(prefix);
  const client = await connect(db.config);
  await seedDemo(client, { rows: opts.rows ?? 20_000, programs: opts.programs ?? 6 });
  await dropDemoForeignKeysIn(client);
  await opts.beforeCreate?.(client);
  const cfg = resolveConfig({});
  const events: EngineEvent[] = [];
  const ctx = (signal?: AbortSignal, onEvent?: (e: EngineEvent) => void): StepContext => ({
    client, connection: db.config, cfg, retry: { ...DEFAULT_RETRY, baseDelayMs: 50 }, poolerProblem: null, signal,
    emit: (e) => {
      events.push(e);
      onEvent?.(e);
    },
  });
  const created = await runCreate(ctx());
  if (!created.ok) throw new Error(`create failed: ${created.summary} ${JSON.stringify(events.filter((e) => e.type === 'check' || e.type === 'step.fail'))}`);
  return {
    db, client, cfg, events, ctx,
    async close() {
      await client.end().catch(() => undefined);
      await db.drop();
    },
  };
}

/** Copied columns (not generated) of the source, quoted, for row-for-row comparisons. */
export async function copiedColumnList(client: pg.Client, table = 'public.petri_observations'): Promise<string> {
  const r = await client.query<{ c: string }>(
    `SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) AS c FROM pg_attribute
      WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = ''`,
    [table],
  );
  return r.rows[0]!.c;
}

/** Rows present on one side only (full rows, both directions, duplicates counted). */
export async function rowDifferences(client: pg.Client): Promise<{ sourceOnly: number; newOnly: number; source: number; target: number }> {
  const cols = await copiedColumnList(client);
  const q = async (sql: string) => Number((await client.query(sql)).rows[0].n);
  return {
    sourceOnly: await q(`SELECT count(*) AS n FROM (SELECT ${cols} FROM ONLY public.petri_observations EXCEPT ALL SELECT ${cols} FROM public.petri_observations_partitioned) x`),
    newOnly: await q(`SELECT count(*) AS n FROM (SELECT ${cols} FROM public.petri_observations_partitioned EXCEPT ALL SELECT ${cols} FROM ONLY public.petri_observations) x`),
    source: await q(`SELECT count(*) AS n FROM ONLY public.petri_observations`),
    target: await q(`SELECT count(*) AS n FROM public.petri_observations_partitioned`),
  };
}

export interface Writer {
  stop(): Promise<{ ops: number; errors: string[] }>;
}

/**
 * A steady application writer: inserts, updates (every third one moves the row to another program, sometimes to
 * a key without a lookup row) and deletes, with a short pause between operations.
 */
export async function startWriter(config: pg.ClientConfig, pauseMs = 3): Promise<Writer> {
  const c = await connect(config);
  const programs = (await c.query<{ id: string }>(`SELECT program_id::text AS id FROM public.pilot_programs ORDER BY created_at`)).rows.map((r) => r.id);
  const orphan = (await c.query<{ id: string }>(`SELECT md5('partwise-demo-orphan-1')::uuid::text AS id`)).rows[0]!.id;
  const ids = (await c.query<{ id: string }>(`SELECT observation_id::text AS id FROM public.petri_observations ORDER BY observation_id LIMIT 3000`)).rows.map((r) => r.id);
  let running = true;
  let ops = 0;
  const errors: string[] = [];
  let n = 0;
  const pickProgram = () => (n % 17 === 0 ? orphan : programs[n % programs.length]!);
  const loop = (async () => {
    while (running) {
      n++;
      try {
        const op = n % 5;
        if (op === 0 || op === 1 || ids.length < 10) {
          const r = await c.query<{ id: string }>(
            `INSERT INTO public.petri_observations (program_id, phase, tags, metadata, growth_index, "daysInThisProgramPhase", petri_code)
             VALUES ($1, 'growth', ARRAY['w', $2], jsonb_build_object('writer', $2::int), $2::numeric % 100, $2::int % 40, 'W-' || $2) RETURNING observation_id::text AS id`,
            [pickProgram(), n],
          );
          ids.push(r.rows[0]!.id);
        } else if (op === 2 || op === 3) {
          const id = ids[(n * 7919) % ids.length]!;
          const move = n % 3 === 0;
          await c.query(
            `UPDATE public.petri_observations SET growth_index = ($2::int % 100), metadata = jsonb_build_object('updated', $2::int), updated_at = now()
               ${move ? ', program_id = $3' : ''} WHERE observation_id = $1`,
            move ? [id, n, pickProgram()] : [id, n],
          );
        } else {
          const i = (n * 104729) % ids.length;
          const id = ids[i]!;
          ids.splice(i, 1);
          await c.query(`DELETE FROM public.petri_observations WHERE observation_id = $1`, [id]);
        }
        ops++;
      } catch (e) {
        errors.push((e as Error).message);
      }
      if (pauseMs) await new Promise((r) => setTimeout(r, pauseMs));
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
