/**
 * The application of the swap scenario (swapScenario.ts): a writer that inserts, updates (some change the key, moving
 * the row to another program) and deletes through the original name while partwise works, keeping a ledger.
 */
import pg from 'pg';

interface RowState { program: string; growth: number | null }

/**
 * The application: inserts, updates (some change the key, moving the row to another program) and deletes through
 * the original name at a steady pace, and keeps a ledger of what each touched row must look like (null = deleted).
 */
export class Writer {
  readonly ledger = new Map<string, RowState | null>();
  readonly errors: string[] = [];
  ops = 0;
  private stopped = false;
  private done: Promise<void> = Promise.resolve();
  private seed = 12345;

  /** `upsertOn`: a constraint name; growth updates of rows the writer knows then go through INSERT ... ON CONFLICT ON CONSTRAINT it */
  constructor(private readonly client: pg.Client, private readonly programs: string[], private readonly pool: string[], private readonly upsertOn?: string) {}

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
    const known = this.ledger.get(id);
    if (op < 7 && this.upsertOn && known) {
      const growth = this.rand(1000);
      const r = await this.client.query(
        `INSERT INTO public.petri_observations (observation_id, program_id, petri_code, growth_index, lab_id) VALUES ($1, $2, 'writer', $3, 1)
           ON CONFLICT ON CONSTRAINT ${pg.escapeIdentifier(this.upsertOn)} DO UPDATE SET growth_index = EXCLUDED.growth_index RETURNING program_id`,
        [id, known.program, growth],
      );
      this.ledger.set(id, { program: r.rows[0].program_id, growth });
    } else if (op < 7) {
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
export async function mismatchesWith(client: pg.ClientBase, writer: Writer): Promise<string[]> {
  const ids = [...writer.ledger.keys()];
  const rows = await client.query(`SELECT observation_id, program_id, growth_index FROM public.petri_observations WHERE observation_id = ANY($1::uuid[])`, [ids]);
  const actual = new Map(rows.rows.map((r) => [r.observation_id as string, { program: r.program_id as string, growth: r.growth_index === null ? null : Number(r.growth_index) }]));
  return ids.filter((id) => JSON.stringify(actual.get(id) ?? null) !== JSON.stringify(writer.ledger.get(id)));
}


/**
 * A writer on `app` for the swap scenario: every program of the lookup table, and a pool of existing rows without
 * images (a key change on a row an image references would, rightly, violate the composite foreign key).
 */
export async function scenarioWriter(app: pg.Client, upsertOn?: string): Promise<Writer> {
  const programs = (await app.query(`SELECT program_id FROM public.pilot_programs ORDER BY created_at`)).rows.map((r) => r.program_id as string);
  const pool = (await app.query(`SELECT observation_id FROM public.petri_observations o
                                   WHERE NOT EXISTS (SELECT 1 FROM public.petri_images i WHERE i.observation_id = o.observation_id)
                                     AND program_id IN (SELECT program_id FROM public.pilot_programs) ORDER BY observation_id LIMIT 1000`)).rows.map((r) => r.observation_id as string);
  return new Writer(app, programs, pool, upsertOn);
}

/** Waits until the writer has done `n` more operations (counted, never timed). */
export async function writerOps(writer: Writer, n: number): Promise<void> {
  const target = writer.ops + n;
  while (writer.ops < target) await new Promise((r) => setTimeout(r, 20));
}
