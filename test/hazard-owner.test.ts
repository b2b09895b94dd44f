/**
 * Issue 12, hazard 7: the table belongs to the application's role, partwise runs as postgres. The new table, its
 * partitions (default and future ones included) and its identity sequence get the same owner, so the owner keeps
 * its access after the swap and the serial sequence can follow the table; rollback gives everything back. check shows
 * the owners and fails when partwise could not give the new table to the owner.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createTestDatabase, testServer, withClient, type TestDatabase } from './helpers/db.js';
import { engineContext } from './helpers/engine.js';
import { seedScenario, tableChecksum } from './helpers/swapScenario.js';
import { mismatchesWith, scenarioWriter, writerOps, type Writer } from './helpers/writer.js';
import { takeSnapshot } from '../src/catalog/snapshot.js';
import type { CheckItem } from '../src/events.js';
import { replayBatch } from '../src/move/capture.js';
import { runCheck, structuralChecks } from '../src/steps/check.js';
import { runCreate } from '../src/steps/create.js';
import { runMaintain } from '../src/steps/maintain.js';
import { runMigrate } from '../src/steps/migrate.js';
import { runRollback } from '../src/steps/rollback.js';
import { runSwap } from '../src/steps/swap.js';
import { runVerify } from '../src/steps/verify.js';
import { runVerifyData } from '../src/steps/verifyData.js';

const RETRY = { lockTimeoutMs: 1000, attempts: 10, baseDelayMs: 50, maxDelayMs: 500 };
const checkItem = (data: unknown, id: string) => (data as { items: CheckItem[] }).items.find((i) => i.id === id);
// roles are cluster-wide: unique per run, dropped at the end
const suffix = randomBytes(4).toString('hex');
const OWNER = `pw_app_owner_${suffix}`;
const RUNNER = `pw_runner_${suffix}`;

/** Owner of every relation of the table (parent, partitions) and of its identity and serial sequences. */
async function owners(c: pg.ClientBase, table: string): Promise<Array<{ rel: string; owner: string }>> {
  const r = await c.query(`
    SELECT x.rel::regclass::text AS rel, pg_get_userbyid(cl.relowner) AS owner
      FROM (SELECT $1::regclass::oid AS rel
            UNION SELECT inhrelid FROM pg_inherits WHERE inhparent = $1::regclass
            UNION SELECT pg_get_serial_sequence($1::text, 'seq_no')::regclass::oid
            UNION SELECT pg_get_serial_sequence($1::text, 'legacy_no')::regclass::oid) x
      JOIN pg_class cl ON cl.oid = x.rel ORDER BY 1`, [table]);
  return r.rows;
}

/** What RUNNER may do with the identity sequence of the table that holds the original name. */
async function sequencePrivileges(c: pg.ClientBase): Promise<{ select: boolean; usage: boolean; update: boolean }> {
  const r = await c.query(`SELECT has_sequence_privilege($1, s, 'SELECT') AS select, has_sequence_privilege($1, s, 'USAGE') AS usage,
                                  has_sequence_privilege($1, s, 'UPDATE') AS update
                             FROM pg_get_serial_sequence('public.petri_observations', 'seq_no') s`, [RUNNER]);
  return r.rows[0];
}

/** What the owner role does through the original name: insert (both sequences), select, update, use the sequences. */
async function asOwner(config: pg.ClientConfig): Promise<void> {
  await withClient(config, async (c) => {
    await c.query(`SET ROLE ${pg.escapeIdentifier(OWNER)}`);
    const ins = await c.query(`INSERT INTO public.petri_observations (program_id, petri_code, lab_id)
                                 SELECT program_id, 'owner', 1 FROM (VALUES ((SELECT program_id FROM public.petri_observations WHERE program_id IS NOT NULL LIMIT 1))) v(program_id)
                                 RETURNING observation_id, seq_no, legacy_no`);
    const id = ins.rows[0].observation_id;
    expect((await c.query(`SELECT count(*)::int AS n FROM public.petri_observations WHERE observation_id = $1`, [id])).rows[0].n).toBe(1);
    expect((await c.query(`UPDATE public.petri_observations SET growth_index = 3 WHERE observation_id = $1`, [id])).rowCount).toBe(1);
    const seq = await c.query(`SELECT currval(pg_get_serial_sequence('public.petri_observations', 'seq_no'))::text AS s,
                                      nextval(pg_get_serial_sequence('public.petri_observations', 'legacy_no')) > $1 AS n`, [ins.rows[0].legacy_no]);
    expect(seq.rows[0]).toEqual({ s: String(ins.rows[0].seq_no), n: true });
  });
}

describe('hazard 7: a table owned by the application\'s role, partwise running as postgres', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('pw_test_hazard_owner');
    await seedScenario(db.config, 3000, 3);
    await withClient(db.config, (c) => c.query(`
      CREATE ROLE ${OWNER} NOLOGIN;
      CREATE ROLE ${RUNNER} NOLOGIN;
      -- the owner's table (its serial and identity sequences follow it); the audit trigger writes as the owner
      ALTER TABLE public.petri_observations OWNER TO ${OWNER};
      GRANT INSERT ON public.obs_audit TO ${OWNER};
      GRANT USAGE ON SEQUENCE public.obs_audit_id_seq TO ${OWNER};
      GRANT SELECT ON public.pilot_programs TO ${RUNNER};
      -- a role that may read the identity sequence (currval), and default privileges that would hand the new one to
      -- it with another privilege (the source's is older than them)
      GRANT SELECT ON SEQUENCE public.petri_observations_seq_no_seq TO ${RUNNER};
      ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE ON SEQUENCES TO ${RUNNER};
    `));
  });
  afterAll(async () => {
    await db?.drop();
    await withClient(testServer().config, (c) => c.query(`DROP ROLE IF EXISTS ${RUNNER}; DROP ROLE IF EXISTS ${OWNER}`));
  });

  it('check shows the owners, and fails while partwise could not give the new table to the owner', async () => {
    const { ctx, close } = await engineContext(db.config, {}, RETRY);
    try {
      const check = await runCheck(ctx);
      const owner = checkItem(check.data, 'owner')!;
      expect(owner.status).toBe('warn');
      expect(owner.reason).toContain(`owned by ${OWNER}, partwise runs as postgres`);
      expect(owner.reason).toContain(`OWNER TO "${OWNER}"`);
      expect(owner.details).toEqual([
        `table public.petri_observations: owner ${OWNER}`,
        `identity sequence public.petri_observations_seq_no_seq (seq_no): owner ${OWNER}`,
        `owned sequence public.petri_observations_legacy_no_seq (legacy_no): owner ${OWNER}`,
      ]);

      // as a role that is neither superuser nor a member of the owner: a failure saying what to grant
      const asRunner = async () => {
        await ctx.client.query(`SET ROLE ${RUNNER}`);
        try {
          return structuralChecks(await takeSnapshot(ctx.client, ctx.cfg), ctx.cfg).find((i) => i.id === 'owner')!;
        } finally {
          await ctx.client.query('RESET ROLE');
        }
      };
      const notMember = await asRunner();
      expect(notMember.status).toBe('fail');
      expect(notMember.reason).toContain(`GRANT "${OWNER}" TO "${RUNNER}"`);
      await ctx.client.query(`GRANT ${OWNER} TO ${RUNNER}`);
      // a member, but the owner may not create in the schema, which ALTER ... OWNER TO requires of a non-superuser
      const noCreate = await asRunner();
      expect(noCreate.status).toBe('fail');
      expect(noCreate.reason).not.toContain(`TO "${RUNNER}"`);
      expect(noCreate.reason).toContain(`GRANT CREATE ON SCHEMA "public" TO "${OWNER}"`);
      await ctx.client.query(`GRANT CREATE ON SCHEMA public TO ${OWNER}`);
      expect((await asRunner()).status).toBe('warn');
      await ctx.client.query(`REVOKE CREATE ON SCHEMA public FROM ${OWNER}; REVOKE ${OWNER} FROM ${RUNNER}`);
    } finally {
      await close();
    }
  });

  it('create gives the owner the new table, its partitions and sequences; the owner\'s writer sees no error through swap and rollback', async () => {
    const { ctx, close } = await engineContext(db.config, {}, RETRY);
    const app = new pg.Client(db.config);
    await app.connect();
    let writer: Writer | undefined;
    try {
      expect((await runCreate(ctx)).exitCode).toBe(0);
      const created = await owners(ctx.client, 'public.petri_observations_partitioned');
      expect(created.length).toBe(1 + 4 + 1); // parent, 3 programs + default, its identity sequence (the serial one is still the source's)
      expect(created.filter((o) => o.owner !== OWNER)).toEqual([]);
      const verified = await runVerify(ctx);
      expect(checkItem(verified.data, 'owner')).toMatchObject({ status: 'ok' });

      writer = await scenarioWriter(app);
      await app.query(`SET ROLE ${OWNER}`);
      writer.start();
      const migrated = await runMigrate(ctx, { mode: 'all', batchSize: 300, sleepMs: 10 });
      expect(migrated.exitCode, migrated.summary).toBe(0);
      const data = await runVerifyData(ctx);
      expect(data.exitCode, data.summary).toBe(0);
      const swapped = await runSwap(ctx);
      expect(swapped.exitCode, swapped.summary).toBe(0);
      await writerOps(writer, 150);
      await writer.stop();
      expect(writer.errors).toEqual([]);
      expect(await mismatchesWith(ctx.client, writer)).toEqual([]);

      // a future partition (auto-partition trigger) belongs to the owner too
      await ctx.client.query(`INSERT INTO public.pilot_programs (name) VALUES ('after the swap')`);
      const swappedOwners = await owners(ctx.client, 'public.petri_observations');
      expect(swappedOwners.length).toBe(1 + 5 + 1 + 1);
      expect(swappedOwners.filter((o) => o.owner !== OWNER)).toEqual([]);
      expect(swappedOwners.map((o) => o.rel)).toContain('petri_observations_legacy_no_seq');
      expect(await sequencePrivileges(ctx.client)).toEqual({ select: true, usage: false, update: false });
      await asOwner(db.config);
      const snap = await takeSnapshot(ctx.client, ctx.cfg);
      while ((await replayBatch(ctx.client, snap, ctx.cfg, 'reverse', 10_000)) > 0);
      expect(await tableChecksum(ctx.client, 'public.petri_observations_old')).toEqual(await tableChecksum(ctx.client, 'public.petri_observations'));

      // rollback under the owner's writer: the original is the owner's as before, with its serial sequence back
      writer.start();
      await writerOps(writer, 50);
      const rolled = await runRollback(ctx);
      expect(rolled.exitCode, rolled.summary).toBe(0);
      await writerOps(writer, 100);
      await writer.stop();
      expect(writer.errors).toEqual([]);
      expect(await mismatchesWith(ctx.client, writer)).toEqual([]);
      expect(await owners(ctx.client, 'public.petri_observations')).toEqual([
        { rel: 'petri_observations', owner: OWNER },
        { rel: 'petri_observations_legacy_no_seq', owner: OWNER },
        { rel: 'petri_observations_seq_no_seq', owner: OWNER },
      ]);
      await asOwner(db.config);
      expect(await sequencePrivileges(ctx.client)).toEqual({ select: true, usage: false, update: false });
    } finally {
      await writer?.stop();
      await app.end();
      await close();
    }
  });

  it('a copy some other role owns (an older create, a partition made by hand) gets the owner at the swap, before the serial sequence follows', async () => {
    const { ctx, close } = await engineContext(db.config, {}, RETRY);
    try {
      // the state the rollback above left: migrated, not swapped; now the copy and one partition belong to postgres
      const part = (await ctx.client.query(`SELECT inhrelid::regclass::text AS p FROM pg_inherits WHERE inhparent = 'public.petri_observations_partitioned'::regclass ORDER BY 1 LIMIT 1`)).rows[0].p;
      await ctx.client.query(`ALTER TABLE public.petri_observations_partitioned OWNER TO postgres; ALTER TABLE ${part} OWNER TO postgres`);
      const verified = await runVerify(ctx);
      expect(checkItem(verified.data, 'owner')).toMatchObject({ status: 'fail', details: ['petri_observations_partitioned: owned by postgres', `${part}: owned by postgres`] });
      expect(checkItem(verified.data, 'owner')!.todo).toContain(`ALTER TABLE "public"."petri_observations_partitioned" OWNER TO "${OWNER}"`);
      expect((await runVerifyData(ctx)).exitCode).toBe(0);
      const swapped = await runSwap(ctx);
      expect(swapped.exitCode, swapped.summary).toBe(0);
      expect((await owners(ctx.client, 'public.petri_observations')).filter((o) => o.owner !== OWNER)).toEqual([]);
      await asOwner(db.config);

      // a partition made by maintain (the auto-partition trigger held off) belongs to the owner too
      await ctx.client.query(`ALTER TABLE public.pilot_programs DISABLE TRIGGER USER`);
      await ctx.client.query(`INSERT INTO public.pilot_programs (name) VALUES ('maintained')`);
      await ctx.client.query(`ALTER TABLE public.pilot_programs ENABLE TRIGGER USER`);
      const before = (await owners(ctx.client, 'public.petri_observations')).length;
      const maintained = await runMaintain(ctx);
      expect(maintained.exitCode, maintained.summary).toBe(0);
      const after = await owners(ctx.client, 'public.petri_observations');
      expect(after.length).toBe(before + 1);
      expect(after.filter((o) => o.owner !== OWNER)).toEqual([]);
    } finally {
      await close();
    }
  });
});
