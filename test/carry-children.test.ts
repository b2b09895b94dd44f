/**
 * Issue 17: foreign keys into the table that lack the partition key are carried. Two children (ON DELETE CASCADE, and
 * DEFERRABLE INITIALLY DEFERRED), an application writing to the parent and to both children through migrate and swap,
 * and rollback before and after the swap.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { engineContext } from './helpers/engine.js';
import { waitUntil } from './helpers/waitUntil.js';
import { CHILDREN, CHILDREN_SQL, childCatalog, childChecksum, childMismatches, orphans } from './helpers/children.js';
import { seedDemo } from '../src/demo/seedDemo.js';
import { runCheck } from '../src/steps/check.js';
import { runCreate } from '../src/steps/create.js';
import { runMigrate } from '../src/steps/migrate.js';
import { runSwap } from '../src/steps/swap.js';
import { runRollback } from '../src/steps/rollback.js';
import { runVerifyData } from '../src/steps/verifyData.js';
import { runPlan } from '../src/steps/plan.js';
import type { CheckItem } from '../src/events.js';

/**
 * The application: inserts and updates parents (key changes only on parents nothing references), inserts notes and
 * splits without the key (a split before its parent, in one transaction: the deferred foreign key), moves a note to
 * another parent, deletes parents that only notes reference (ON DELETE CASCADE). Each operation its own transaction.
 */
class ChildWriter {
  readonly errors: string[] = [];
  ops = 0;
  private stopped = false;
  private done: Promise<void> = Promise.resolve();
  private seed = 4242;
  /** parents the writer made: free (nothing references them), noted (only notes reference them) */
  private free: string[] = [];
  private noted: string[] = [];

  constructor(private readonly c: pg.Client, private readonly programs: string[], private readonly existing: string[]) {}

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
          await this.c.query('ROLLBACK').catch(() => undefined);
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

  private program(): string {
    return this.programs[this.rand(this.programs.length)]!;
  }

  private async step(): Promise<void> {
    const op = this.rand(12);
    if (op < 2 || this.free.length < 3) {
      const r = await this.c.query(`INSERT INTO public.petri_observations (program_id, petri_code, growth_index) VALUES ($1, 'child-writer', 1) RETURNING observation_id`, [this.program()]);
      this.free.push(r.rows[0].observation_id);
    } else if (op < 4) {
      // a note without the key, on an existing parent or on one the writer made
      const parent = this.rand(2) === 0 ? this.existing[this.rand(this.existing.length)]! : this.free.splice(this.rand(this.free.length), 1)[0]!;
      await this.c.query(`INSERT INTO public.obs_notes (observation_id, body) VALUES ($1, 'writer')`, [parent]);
      if (!this.existing.includes(parent)) this.noted.push(parent);
    } else if (op < 6) {
      // the deferred foreign key: the split first, its parent later in the same transaction
      const id = (await this.c.query(`SELECT gen_random_uuid() AS id`)).rows[0].id as string;
      await this.c.query('BEGIN');
      await this.c.query(`INSERT INTO public.obs_splits (observation_id, part) VALUES ($1, 1)`, [id]);
      await this.c.query(`INSERT INTO public.petri_observations (observation_id, program_id, petri_code) VALUES ($1, $2, 'split-parent')`, [id, this.program()]);
      await this.c.query('COMMIT');
    } else if (op < 7) {
      await this.c.query(`INSERT INTO public.obs_splits (observation_id, part) VALUES ($1, 2)`, [this.existing[this.rand(this.existing.length)]!]);
    } else if (op < 8 && this.noted.length) {
      // a note moves to another parent: UPDATE OF the foreign key's column
      const to = this.existing[this.rand(this.existing.length)]!;
      await this.c.query(`UPDATE public.obs_notes SET observation_id = $1 WHERE note_id = (SELECT max(note_id) FROM public.obs_notes WHERE body = 'writer')`, [to]);
    } else if (op < 9 && this.noted.length) {
      // ON DELETE CASCADE: the parent goes with its notes
      const id = this.noted.splice(this.rand(this.noted.length), 1)[0]!;
      await this.c.query(`DELETE FROM public.petri_observations WHERE observation_id = $1`, [id]);
    } else if (op < 10) {
      await this.c.query(`UPDATE public.petri_observations SET growth_index = growth_index + 1 WHERE observation_id = $1`, [this.existing[this.rand(this.existing.length)]!]);
    } else {
      // a key change on a parent nothing references
      await this.c.query(`UPDATE public.petri_observations SET program_id = $2 WHERE observation_id = $1`, [this.free[this.rand(this.free.length)]!, this.program()]);
    }
  }
}

const byId = (data: unknown, id: string) => (data as { items: CheckItem[] }).items.find((i) => i.id === id);

async function snapshotChildren(client: pg.ClientBase) {
  const out: Record<string, unknown> = {};
  for (const t of CHILDREN) out[t] = { catalog: await childCatalog(client, t), rows: await childChecksum(client, t) };
  return out;
}

describe('foreign keys into the table without the key: the referencing tables are carried', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('pw_test_carry_children');
    const c = new pg.Client(db.config);
    await c.connect();
    await seedDemo(c, { rows: 4000, programs: 4 });
    await c.query(CHILDREN_SQL);
    await c.end();
  });
  afterAll(async () => db?.drop());

  it('check warns with what will be added; create adds the column and trigger; rollback before the swap leaves the children as they were', async () => {
    const { ctx, close } = await engineContext(db.config);
    try {
      const before = await snapshotChildren(ctx.client);
      const check = await runCheck(ctx);
      const notes = byId(check.data, 'foreign-key-carry:public.obs_notes.obs_notes_observation_fkey')!;
      expect(notes.status).toBe('warn');
      expect(notes.reason).toMatch(/carries public\.obs_notes/);
      expect(notes.details!.join('\n')).toContain('obs_notes_observation_fkey FOREIGN KEY ("observation_id", "program_id") REFERENCES "public"."petri_observations" ("observation_id", "program_id") ON UPDATE NO ACTION ON DELETE CASCADE');
      const splits = byId(check.data, 'foreign-key-carry:public.obs_splits.obs_splits_Obs;fkey')!;
      expect(splits.status).toBe('warn');
      expect(splits.details!.join('\n')).toMatch(/DEFERRABLE INITIALLY DEFERRED/);
      expect(check.data && (check.data as { items: CheckItem[] }).items.filter((i) => i.status === 'fail').map((i) => i.id)).toEqual(
        (check.data as { items: CheckItem[] }).items.filter((i) => i.status === 'fail' && !i.id.startsWith('foreign-key')).map((i) => i.id),
      );
      const plan = await runPlan(ctx);
      expect((plan.data as { script: string }).script).toMatch(/ADD COLUMN IF NOT EXISTS "program_id" uuid/);

      const created = await runCreate(ctx);
      expect(created.exitCode, created.summary).toBe(0);
      for (const t of CHILDREN) {
        const cat = await childCatalog(ctx.client, t);
        expect(cat.attributes.at(-1)).toBe('program_id uuid false');
        expect(cat.triggers.some((x) => x.startsWith('partwise_fill_program_id '))).toBe(true);
      }
      // the application's insert stays as it is: the trigger sets the key; an orphan is refused
      const parent = (await ctx.client.query(`SELECT observation_id, program_id FROM public.petri_observations WHERE program_id IS NOT NULL LIMIT 1`)).rows[0];
      const ins = await ctx.client.query(`INSERT INTO public.obs_notes (observation_id, body) VALUES ($1, 'app') RETURNING note_id, program_id`, [parent.observation_id]);
      expect(ins.rows[0].program_id).toBe(parent.program_id);
      await expect(ctx.client.query(`INSERT INTO public.obs_notes (observation_id, body) VALUES (gen_random_uuid(), 'orphan')`)).rejects.toMatchObject({ code: '23503' });
      await ctx.client.query(`DELETE FROM public.obs_notes WHERE note_id = $1`, [ins.rows[0].note_id]);

      const migrated = await runMigrate(ctx, { mode: 'all', batchSize: 500 });
      expect(migrated.exitCode, migrated.summary).toBe(0);
      for (const t of CHILDREN) {
        expect(await childMismatches(ctx.client, t)).toBe(0);
        expect((await childCatalog(ctx.client, t)).indexes.some((x) => /\(observation_id, program_id\) true$/.test(x))).toBe(true);
      }

      // a parent's key change reaches its children (the source's key-following trigger)
      const moved = (await ctx.client.query(`SELECT p.observation_id FROM public.petri_observations p JOIN public.obs_notes n USING (observation_id) WHERE p.program_id IS NOT NULL LIMIT 1`)).rows[0];
      {
        await ctx.client.query(`UPDATE public.petri_observations SET program_id = (SELECT program_id FROM public.pilot_programs WHERE program_id IS DISTINCT FROM p.program_id LIMIT 1) FROM public.petri_observations p WHERE p.observation_id = $1 AND petri_observations.observation_id = p.observation_id`, [moved.observation_id]);
      }
      for (const t of CHILDREN) expect(await childMismatches(ctx.client, t)).toBe(0);

      // the swap's gate: a row without its key (the fill trigger off for a while) refuses the swap; migrate sets it
      await ctx.client.query(`ALTER TABLE public.obs_notes DISABLE TRIGGER partwise_fill_program_id`);
      const stray = (await ctx.client.query(`INSERT INTO public.obs_notes (observation_id, body) VALUES ($1, 'stray') RETURNING note_id`, [parent.observation_id])).rows[0].note_id;
      await ctx.client.query(`ALTER TABLE public.obs_notes ENABLE TRIGGER partwise_fill_program_id`);
      const verified = await runVerifyData(ctx);
      expect(verified.exitCode, verified.summary).toBe(0);
      const refused = await runSwap(ctx);
      expect(refused.exitCode).toBe(3);
      expect(refused.summary).toMatch(/swap refused under its locks: 1 row\(s\) of public\.obs_notes have no program_id or another one than the petri_observations row they reference/);
      expect((await ctx.client.query(`SELECT relkind::text AS k FROM pg_class WHERE oid = 'public.petri_observations'::regclass`)).rows[0].k).toBe('r');
      const repaired = await runMigrate(ctx, { mode: 'all' });
      expect(repaired.exitCode, repaired.summary).toBe(0);
      expect(await childMismatches(ctx.client, 'public.obs_notes')).toBe(0);
      await ctx.client.query(`DELETE FROM public.obs_notes WHERE note_id = $1`, [stray]);

      const rolled = await runRollback(ctx);
      expect(rolled.exitCode, rolled.summary).toBe(0);
      expect(await snapshotChildren(ctx.client)).toEqual(before);
      // what does not hold byte for byte: DROP COLUMN leaves a dropped attribute behind (docs/behaviours/drop-column-leaves-a-dropped-attribute.md)
      const dropped = await ctx.client.query(`SELECT count(*)::int AS n FROM pg_attribute WHERE attrelid = 'public.obs_notes'::regclass AND attisdropped`);
      expect(dropped.rows[0].n).toBe(1);
      const leftovers = await ctx.client.query(`SELECT count(*)::int AS n FROM pg_proc WHERE pronamespace = 'partwise'::regnamespace AND (proname LIKE 'fill\\_%' OR proname LIKE 'sync\\_%')`);
      expect(leftovers.rows[0].n).toBe(0);
    } finally {
      await close();
    }
  });

  it('a writer on the parent and both children through migrate, swap and rollback: no orphan, no error, foreign keys validated, children unchanged but for the column', async () => {
    const { ctx, close } = await engineContext(db.config, {}, { lockTimeoutMs: 1000, attempts: 10, baseDelayMs: 50, maxDelayMs: 500 });
    const app = new pg.Client(db.config);
    await app.connect();
    let writer: ChildWriter | undefined;
    try {
      const before = await snapshotChildren(ctx.client);
      const maxNote = Number((await ctx.client.query(`SELECT max(note_id) AS m FROM public.obs_notes`)).rows[0].m);
      const maxSplit = Number((await ctx.client.query(`SELECT max(split_id) AS m FROM public.obs_splits`)).rows[0].m);
      const oldRows = { notes: await childChecksum(ctx.client, 'public.obs_notes', `note_id <= ${maxNote}`), splits: await childChecksum(ctx.client, 'public.obs_splits', `split_id <= ${maxSplit}`) };
      const fkBefore = (await ctx.client.query(`SELECT conname, pg_get_constraintdef(oid) AS def, confrelid FROM pg_constraint WHERE contype = 'f' AND conparentid = 0 AND conrelid IN ('public.obs_notes'::regclass, 'public.obs_splits'::regclass) ORDER BY conname`)).rows;

      const programs = (await app.query(`SELECT program_id FROM public.pilot_programs ORDER BY created_at`)).rows.map((r) => r.program_id as string);
      // parents the writer references but never deletes nor moves: the first rows (their notes and splits are the "old rows")
      const existing = (await app.query(`SELECT observation_id FROM public.petri_observations WHERE program_id = ANY($1::uuid[]) ORDER BY seq_no LIMIT 300`, [programs])).rows.map((r) => r.observation_id as string);
      writer = new ChildWriter(app, programs, existing);

      expect((await runCreate(ctx)).exitCode).toBe(0);
      writer.start();
      const migrated = await runMigrate(ctx, { mode: 'all', batchSize: 300, sleepMs: 5 });
      expect(migrated.exitCode, migrated.summary).toBe(0);
      await waitUntil(() => writer!.ops > 60, { what: '60 writes during migrate' });
      const verified = await runVerifyData(ctx);
      expect(verified.exitCode, verified.summary).toBe(0);
      const swapped = await runSwap(ctx);
      expect(swapped.exitCode, swapped.summary).toBe(0);
      const opsAtSwap = writer.ops;
      await waitUntil(() => writer!.ops >= opsAtSwap + 150, { what: '150 writes after the swap' });
      await writer.stop();
      expect(writer.errors).toEqual([]);

      // the foreign keys: (observation_id, program_id) into the partitioned table, validated, same behaviour and name
      const fks = (await ctx.client.query(`SELECT conname, pg_get_constraintdef(oid) AS def, convalidated, confrelid::regclass::text AS ref FROM pg_constraint WHERE contype = 'f' AND conparentid = 0 AND conrelid IN ('public.obs_notes'::regclass, 'public.obs_splits'::regclass) ORDER BY conname`)).rows;
      expect(fks).toEqual([
        { conname: 'obs_notes_observation_fkey', def: 'FOREIGN KEY (observation_id, program_id) REFERENCES petri_observations(observation_id, program_id) ON DELETE CASCADE', convalidated: true, ref: 'petri_observations' },
        { conname: 'obs_splits_Obs;fkey', def: 'FOREIGN KEY (observation_id, program_id) REFERENCES petri_observations(observation_id, program_id) DEFERRABLE INITIALLY DEFERRED', convalidated: true, ref: 'petri_observations' },
      ]);
      expect((await ctx.client.query(`SELECT relkind::text AS k FROM pg_class WHERE oid = 'public.petri_observations'::regclass`)).rows[0].k).toBe('p');
      for (const t of CHILDREN) {
        expect(await orphans(ctx.client, t)).toBe(0);
        expect(await childMismatches(ctx.client, t)).toBe(0);
      }
      // children unchanged but for the column: the rows that were there, their columns and objects
      expect(await childChecksum(ctx.client, 'public.obs_notes', `note_id <= ${maxNote}`)).toEqual(oldRows.notes);
      expect(await childChecksum(ctx.client, 'public.obs_splits', `split_id <= ${maxSplit}`)).toEqual(oldRows.splits);
      for (const t of CHILDREN) {
        const now = await childCatalog(ctx.client, t);
        const was = (before[t] as { catalog: Record<string, string[]> }).catalog;
        expect(now.attributes).toEqual([...was.attributes!, 'program_id uuid false']);
        expect(now.constraints.map((x) => x.split(' ')[0]).filter((x) => !x.startsWith('partwise_'))).toEqual(was.constraints!.map((x) => x.split(' ')[0]));
      }

      // after the swap: an insert without the key succeeds, an orphan fails, a late parent still works (deferred)
      const parent = (await app.query(`SELECT observation_id, program_id FROM public.petri_observations WHERE observation_id = $1`, [existing[0]])).rows[0];
      const ins = await app.query(`INSERT INTO public.obs_notes (observation_id, body) VALUES ($1, 'after') RETURNING program_id`, [parent.observation_id]);
      expect(ins.rows[0].program_id).toBe(parent.program_id);
      await expect(app.query(`INSERT INTO public.obs_notes (observation_id, body) VALUES (gen_random_uuid(), 'orphan')`)).rejects.toMatchObject({ code: '23503' });
      await expect(app.query(`INSERT INTO public.obs_splits (observation_id) VALUES (gen_random_uuid())`)).rejects.toMatchObject({ code: '23503' });

      // rollback after the swap: the original foreign keys, to the original table
      writer.start();
      const opsAtRollback = writer.ops;
      await waitUntil(() => writer!.ops >= opsAtRollback + 50, { what: '50 writes before the rollback' });
      const rolled = await runRollback(ctx);
      expect(rolled.exitCode, rolled.summary).toBe(0);
      const opsAfter = writer.ops;
      await waitUntil(() => writer!.ops >= opsAfter + 50, { what: '50 writes after the rollback' });
      await writer.stop();
      expect(writer.errors).toEqual([]);
      const fkAfter = (await ctx.client.query(`SELECT conname, pg_get_constraintdef(oid) AS def, confrelid FROM pg_constraint WHERE contype = 'f' AND conparentid = 0 AND conrelid IN ('public.obs_notes'::regclass, 'public.obs_splits'::regclass) ORDER BY conname`)).rows;
      expect(fkAfter).toEqual(fkBefore);
      for (const t of CHILDREN) {
        expect(await orphans(ctx.client, t)).toBe(0);
        expect(await childMismatches(ctx.client, t)).toBe(0);
      }
      // and rollback again (now before the swap): the children as they were, but for the writer's rows
      const again = await runRollback(ctx);
      expect(again.exitCode, again.summary).toBe(0);
      for (const t of CHILDREN) expect((await childCatalog(ctx.client, t))).toEqual((before[t] as { catalog: unknown }).catalog);
      expect(await childChecksum(ctx.client, 'public.obs_notes', `note_id <= ${maxNote}`)).toEqual(oldRows.notes);
      expect(await childChecksum(ctx.client, 'public.obs_splits', `split_id <= ${maxSplit}`)).toEqual(oldRows.splits);
    } finally {
      await writer?.stop();
      await app.end();
      await close();
    }
  });
});

describe('foreign keys into the table without the key that partwise cannot carry', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('pw_test_carry_refused');
    const c = new pg.Client(db.config);
    await c.connect();
    await seedDemo(c, { rows: 200, programs: 2 });
    await c.query(`
      CREATE TABLE public.obs_by_lab (observation_id uuid REFERENCES public.petri_observations (observation_id), lab int NOT NULL) PARTITION BY LIST (lab);
      CREATE TABLE public.obs_own_key (observation_id uuid REFERENCES public.petri_observations (observation_id), program_id uuid);`);
    await c.end();
  });
  afterAll(async () => db?.drop());

  it('check fails for each and says why; create leaves them alone; the swap refuses', async () => {
    const { ctx, close } = await engineContext(db.config);
    try {
      const check = await runCheck(ctx);
      expect(check.exitCode).toBe(3);
      const lab = byId(check.data, 'foreign-key-carry:public.obs_by_lab.obs_by_lab_observation_id_fkey')!;
      expect(lab).toMatchObject({ status: 'fail', reason: expect.stringMatching(/partwise cannot carry it: public\.obs_by_lab is itself partitioned/) });
      expect(lab.todo).toMatch(/add program_id to public\.obs_by_lab by hand/);
      const own = byId(check.data, 'foreign-key-carry:public.obs_own_key.obs_own_key_observation_id_fkey')!;
      expect(own).toMatchObject({ status: 'fail', reason: expect.stringMatching(/already has a column program_id that partwise did not add/) });
      const created = await runCreate(ctx);
      expect(created.exitCode, created.summary).toBe(0);
      expect((await childCatalog(ctx.client, 'public.obs_own_key')).triggers).toEqual([expect.stringMatching(/^RI_ConstraintTrigger/), expect.stringMatching(/^RI_ConstraintTrigger/)]);
      const swapped = await runSwap(ctx);
      expect(swapped.exitCode).not.toBe(0);
      expect(swapped.summary).toMatch(/cannot swap: .*obs_by_lab.*is itself partitioned/);
    } finally {
      await close();
    }
  });
});
