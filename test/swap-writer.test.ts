import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { engineContext } from './helpers/engine.js';
import { seedScenario, tableChecksum } from './helpers/swapScenario.js';
import { takeSnapshot } from '../src/catalog/snapshot.js';
import { replayBatch } from '../src/move/capture.js';
import { runCreate } from '../src/steps/create.js';
import { runMigrate } from '../src/steps/migrate.js';
import { runSwap } from '../src/steps/swap.js';
import { runRollback } from '../src/steps/rollback.js';
import { runVerifyData } from '../src/steps/verifyData.js';

interface RowState { program: string; growth: number | null }

/**
 * The application: inserts, updates (some change the key, moving the row to another program) and deletes through
 * the original name at a steady pace, and keeps a ledger of what each touched row must look like (null = deleted).
 */
class Writer {
  readonly ledger = new Map<string, RowState | null>();
  readonly errors: string[] = [];
  ops = 0;
  private stopped = false;
  private done: Promise<void> = Promise.resolve();
  private seed = 12345;

  constructor(private readonly client: pg.Client, private readonly programs: string[], private readonly pool: string[]) {}

  /** Deterministic pseudo-random numbers, so a failure can be replayed. */
  private rand(n: number): number {
    this.seed = (this.seed * 1103515245 + 12345) % 2147483648;
    return this.seed % n;
  }

  start(): void {
    this.stopped = false;
    this.done = (async () => {
      while (!this.stopped) {
        try {
          await this.step();
        } catch (e) {
          this.errors.push((e as Error).message);
        }
        this.ops++;
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }

  private async step(): Promise<void> {
    const op = this.rand(10);
    const program = this.programs[this.rand(this.programs.length)]!;
    if (op < 4 || this.pool.length === 0) {
      const growth = this.rand(1000);
      const r = await this.client.query(
        `INSERT INTO public.petri_observations (program_id, petri_code, growth_index, lab_id) VALUES ($1, 'writer', $2, 1) RETURNING observation_id`,
        [program, growth],
      );
      const id = r.rows[0].observation_id as string;
      this.ledger.set(id, { program, growth });
      this.pool.push(id);
      return;
    }
    const id = this.pool[this.rand(this.pool.length)]!;
    if (op < 7) {
      const growth = this.rand(1000);
      const r = await this.client.query(`UPDATE public.petri_observations SET growth_index = $2 WHERE observation_id = $1 RETURNING program_id`, [id, growth]);
      if (r.rowCount === 1) this.ledger.set(id, { program: r.rows[0].program_id, growth });
    } else if (op < 9) {
      // the key changes: the row moves to another program (another partition after the swap)
      const r = await this.client.query(`UPDATE public.petri_observations SET program_id = $2 WHERE observation_id = $1 RETURNING growth_index`, [id, program]);
      if (r.rowCount === 1) this.ledger.set(id, { program, growth: r.rows[0].growth_index === null ? null : Number(r.rows[0].growth_index) });
    } else {
      const r = await this.client.query(`DELETE FROM public.petri_observations WHERE observation_id = $1`, [id]);
      if (r.rowCount === 1) {
        this.ledger.set(id, null);
        this.pool.splice(this.pool.indexOf(id), 1);
      }
    }
  }
}

/** Rows whose state in the table (behind the original name) differs from the writer's ledger. */
async function mismatchesWith(client: pg.ClientBase, writer: Writer): Promise<string[]> {
  const ids = [...writer.ledger.keys()];
  const rows = await client.query(`SELECT observation_id, program_id, growth_index FROM public.petri_observations WHERE observation_id = ANY($1::uuid[])`, [ids]);
  const actual = new Map(rows.rows.map((r) => [r.observation_id as string, { program: r.program_id as string, growth: r.growth_index === null ? null : Number(r.growth_index) }]));
  return ids.filter((id) => JSON.stringify(actual.get(id) ?? null) !== JSON.stringify(writer.ledger.get(id)));
}

describe('migrate, verify --data, swap and rollback under a concurrent writer', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('pw_test_swap_writer');
    await seedScenario(db.config, 5000, 4);
  });
  afterAll(async () => db?.drop());

  it('after the swap (and after a rollback) the table equals what the writer produced, and the writer saw no errors', async () => {
    const { ctx, close } = await engineContext(db.config, {}, { lockTimeoutMs: 1000, attempts: 10, baseDelayMs: 50, maxDelayMs: 500 });
    const app = new pg.Client(db.config);
    await app.connect();
    let writer: Writer | undefined;
    try {
      expect((await runCreate(ctx)).exitCode).toBe(0);
      const programs = (await app.query(`SELECT program_id FROM public.pilot_programs ORDER BY created_at`)).rows.map((r) => r.program_id as string);
      // rows without images: a key change on a row an image references would (rightly) violate the composite FK
      const pool = (await app.query(`SELECT observation_id FROM public.petri_observations o
                                       WHERE NOT EXISTS (SELECT 1 FROM public.petri_images i WHERE i.observation_id = o.observation_id)
                                         AND program_id IN (SELECT program_id FROM public.pilot_programs) ORDER BY observation_id LIMIT 1000`)).rows.map((r) => r.observation_id as string);
      writer = new Writer(app, programs, pool);
      writer.start();

      const migrated = await runMigrate(ctx, { mode: 'all', batchSize: 300, sleepMs: 10 });
      expect(migrated.exitCode, migrated.summary).toBe(0);
      const verified = await runVerifyData(ctx);
      expect(verified.exitCode, verified.summary).toBe(0);
      const opsAtSwap = writer.ops;
      expect(opsAtSwap).toBeGreaterThan(20);
      const swapped = await runSwap(ctx);
      expect(swapped.exitCode, swapped.summary).toBe(0);
      // keep writing after the swap for a while (counted in operations, not time)
      while (writer.ops < opsAtSwap + 150) await new Promise((r) => setTimeout(r, 20));
      await writer.stop();

      expect(writer.errors).toEqual([]);
      expect(writer.ledger.size).toBeGreaterThan(100);
      // every row the writer touched is exactly as the writer left it
      expect(await mismatchesWith(ctx.client, writer)).toEqual([]);

      // and the reverse-captured old table, once its backlog is applied, equals the partitioned table row for row
      const snap = await takeSnapshot(ctx.client, ctx.cfg);
      while ((await replayBatch(ctx.client, snap, ctx.cfg, 'reverse', 10_000)) > 0);
      expect(await tableChecksum(ctx.client, 'public.petri_observations_old')).toEqual(await tableChecksum(ctx.client, 'public.petri_observations'));

      // rollback under the same writer: the restored original holds every write, before, during and after it
      writer.start();
      const opsAtRollback = writer.ops;
      while (writer.ops < opsAtRollback + 100) await new Promise((r) => setTimeout(r, 20));
      const rolled = await runRollback(ctx);
      expect(rolled.exitCode, rolled.summary).toBe(0);
      const opsAfterRollback = writer.ops;
      while (writer.ops < opsAfterRollback + 100) await new Promise((r) => setTimeout(r, 20));
      await writer.stop();
      expect(writer.errors).toEqual([]);
      expect((await ctx.client.query(`SELECT relkind::text AS k FROM pg_class WHERE oid = 'public.petri_observations'::regclass`)).rows[0].k).toBe('r');
      expect(await mismatchesWith(ctx.client, writer)).toEqual([]);
      // the copy is kept in sync by forward capture again
      const snap2 = await takeSnapshot(ctx.client, ctx.cfg);
      while ((await replayBatch(ctx.client, snap2, ctx.cfg, 'forward', 10_000)) > 0);
      expect(await tableChecksum(ctx.client, 'public.petri_observations_partitioned')).toEqual(await tableChecksum(ctx.client, 'public.petri_observations'));
    } finally {
      await writer?.stop();
      await app.end();
      await close();
    }
  });
});
