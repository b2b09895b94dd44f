import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { catalogFingerprint, engineContext } from './helpers/engine.js';
import { captureInstalled } from '../src/move/capture.js';
import { captureNames } from '../src/move/captureNames.js';
import { createMigrateVerify, seedScenario, tableChecksum } from './helpers/swapScenario.js';
import { runSwap } from '../src/steps/swap.js';
import { runRollback } from '../src/steps/rollback.js';
import { runFinish } from '../src/steps/finish.js';
import { runVerifyData } from '../src/steps/verifyData.js';
import type { EngineEvent } from '../src/events.js';

/** Where every dependent object kind is bound, by table name (relname), read from the catalog. */
async function bindings(c: pg.ClientBase) {
  const one = async (sql: string, params: unknown[] = []) => (await c.query(sql, params)).rows;
  const viewReads = async (view: string) =>
    (await one(`SELECT DISTINCT d.refobjid::regclass::text AS t FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
                 WHERE d.classid = 'pg_rewrite'::regclass AND r.ev_class = $1::regclass AND d.refobjid <> $1::regclass
                   AND d.refclassid = 'pg_class'::regclass ORDER BY 1`, [view])).map((r) => r.t);
  return {
    relkind: (await one(`SELECT relkind::text FROM pg_class WHERE oid = 'public.petri_observations'::regclass`))[0].relkind,
    recentView: await viewReads('public.petri_observations_recent'),
    secureView: await viewReads('public.obs_secure'),
    secureOptions: (await one(`SELECT reloptions::text[] AS o FROM pg_class WHERE oid = 'public.obs_secure'::regclass`))[0].o,
    viewGrants: (await one(`SELECT has_table_privilege('anon', 'public.obs_secure', 'SELECT') AS anon,
                                   has_table_privilege('authenticated', 'public.petri_observations_recent', 'SELECT') AS auth`))[0],
    matview: await viewReads('public.program_counts'),
    matviewExtras: (await one(`SELECT has_table_privilege('authenticated', 'public.program_counts', 'SELECT') AS granted,
                                      obj_description('public.program_counts'::regclass, 'pg_class') AS comment,
                                      (SELECT count(*)::int FROM pg_index WHERE indrelid = 'public.program_counts'::regclass) AS indexes`))[0],
    functionReads: (await one(`SELECT DISTINCT d.refobjid::regclass::text AS t FROM pg_depend d
                                WHERE d.classid = 'pg_proc'::regclass AND d.objid = 'public.count_program(uuid)'::regprocedure
                                  AND d.refclassid = 'pg_class'::regclass ORDER BY 1`)).map((r) => r.t),
    fkIn: (await one(`SELECT conname, confrelid::regclass::text AS t, convalidated FROM pg_constraint
                       WHERE conrelid = 'public.petri_images'::regclass AND contype = 'f' AND conparentid = 0`)),
    fkOut: (await one(`SELECT conrelid::regclass::text AS t FROM pg_constraint WHERE conname = 'petri_observations_lab_fkey' AND conparentid = 0 ORDER BY 1`)).map((r) => r.t),
    rls: (await one(`SELECT relname, relrowsecurity FROM pg_class WHERE relname IN ('petri_observations', 'petri_observations_old', 'petri_observations_partitioned') ORDER BY 1`)),
    policies: (await one(`SELECT polrelid::regclass::text AS t, count(*)::int AS n FROM pg_policy
                           WHERE polrelid IN ('public.petri_observations'::regclass) GROUP BY 1`)),
    grants: (await one(`SELECT has_table_privilege('anon', 'public.petri_observations', 'INSERT') AS anon_insert,
                               has_column_privilege('authenticated', 'public.petri_observations', 'program_id', 'REFERENCES') AS col_ref`))[0],
    triggers: (await one(`SELECT tgrelid::regclass::text AS t, tgname, tgenabled::text AS enabled FROM pg_trigger
                           WHERE NOT tgisinternal AND tgparentid = 0 AND tgname NOT LIKE 'partwise%'
                             AND tgrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relname LIKE 'petri_observations%')
                           ORDER BY 1, 2`)),
    rules: (await one(`SELECT ev_class::regclass::text AS t, ev_enabled::text AS enabled FROM pg_rewrite WHERE rulename = 'petri_observations_protect' ORDER BY 1`)),
    publication: (await one(`SELECT prrelid::regclass::text AS t FROM pg_publication_rel WHERE prpubid = (SELECT oid FROM pg_publication WHERE pubname = 'partwise_demo_pub')`)).map((r) => r.t),
    comment: (await one(`SELECT obj_description('public.petri_observations'::regclass, 'pg_class') AS c`))[0].c,
    statTarget: (await one(`SELECT attstattarget::int AS s FROM pg_attribute WHERE attrelid = 'public.petri_observations'::regclass AND attname = 'petri_code'`))[0].s,
    replicaIdentity: (await one(`SELECT DISTINCT relreplident::text AS r FROM pg_class WHERE oid = 'public.petri_observations'::regclass
                                  OR oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'public.petri_observations'::regclass)`)).map((r) => r.r),
    pkIndex: (await one(`SELECT indrelid::regclass::text AS t FROM pg_index WHERE indexrelid = 'public.petri_observations_pkey'::regclass`))[0].t,
    codeIndex: (await one(`SELECT indrelid::regclass::text AS t FROM pg_index WHERE indexrelid = 'public.petri_observations_petri_code_idx'::regclass`))[0].t,
    serialOwner: (await one(`SELECT pg_get_serial_sequence('public.petri_observations', 'legacy_no') AS s`))[0].s,
  };
}

describe('swap, then rollback: every dependent object kind on the right table', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('pw_test_swap');
    await seedScenario(db.config);
  });
  afterAll(async () => db?.drop());

  it('swap carries everything over; rollback brings everything back; finish keeps the old table', async () => {
    const { ctx, events, close } = await engineContext(db.config);
    try {
      await createMigrateVerify(ctx);
      // "migrated, not swapped": the state swap starts from and rollback returns to
      const before = await bindings(ctx.client);
      expect(before.relkind).toBe('r');
      expect(before.triggers.map((t: { tgname: string }) => t.tgname)).toContain('petri_observations_Audit');
      const maxSeq = Number((await ctx.client.query(`SELECT max(seq_no) AS m FROM public.petri_observations`)).rows[0].m);
      const original = await tableChecksum(ctx.client, 'public.petri_observations');

      const swapped = await runSwap(ctx);
      expect(swapped.summary).toMatch(/now the partitioned table/);
      expect(swapped.exitCode, swapped.summary).toBe(0);
      const smoke = events.filter((e): e is Extract<EngineEvent, { type: 'info' }> => e.type === 'info' && e.message.startsWith('smoke check'));
      expect(smoke.map((e) => e.message)).toEqual(expect.arrayContaining([
        expect.stringMatching(/insert of one row/), expect.stringMatching(/update of one row/), expect.stringMatching(/delete of one row/),
        expect.stringMatching(/view public\.petri_observations_recent reads/), expect.stringMatching(/function public\.count_program/),
      ]));

      // publications list leaf partitions unless publish_via_partition_root
      // (docs/behaviours/publication-lists-leaf-partitions.md): said, not changed
      expect(events.some((e) => e.type === 'warn' && /partwise_demo_pub.*publish_via_partition_root = false/.test(e.message))).toBe(true);
      const after = await bindings(ctx.client);
      expect(after.relkind).toBe('p');
      expect(after.recentView).toEqual(['petri_observations']);
      expect(after.secureView).toEqual(['petri_observations']);
      expect(after.secureOptions).toEqual(['security_invoker=true']);
      expect(after.viewGrants).toEqual({ anon: true, auth: true });
      expect(after.matview).toEqual(['petri_observations']);
      expect(after.matviewExtras).toEqual({ granted: true, comment: 'observations per program', indexes: 1 });
      expect(after.functionReads).toEqual(['petri_observations']);
      expect(after.fkIn).toEqual([{ conname: 'petri_images_obs;fkey', t: 'petri_observations', convalidated: true }]);
      expect(after.fkOut).toEqual(['petri_observations', 'petri_observations_old']);
      expect(after.rls).toEqual([
        { relname: 'petri_observations', relrowsecurity: true },
        { relname: 'petri_observations_old', relrowsecurity: true },
      ]);
      expect(after.policies).toEqual([{ t: 'petri_observations', n: 2 }]);
      expect(after.grants).toEqual({ anon_insert: true, col_ref: true });
      // business triggers on the partitioned parent, disabled on the old table (reverse replay must not fire them)
      expect(after.triggers).toEqual([
        { t: 'petri_observations', tgname: 'petri_observations_Audit', enabled: 'O' },
        { t: 'petri_observations', tgname: 'petri_observations_dormant', enabled: 'D' },
        { t: 'petri_observations', tgname: 'petri_observations_stamp', enabled: 'O' },
        { t: 'petri_observations_old', tgname: 'petri_observations_Audit', enabled: 'D' },
        { t: 'petri_observations_old', tgname: 'petri_observations_dormant', enabled: 'D' },
        { t: 'petri_observations_old', tgname: 'petri_observations_stamp', enabled: 'D' },
      ]);
      expect(after.rules).toEqual([{ t: 'petri_observations', enabled: 'O' }, { t: 'petri_observations_old', enabled: 'D' }]);
      expect(after.publication).toEqual(['petri_observations']);
      expect(after.comment).toBe(before.comment);
      expect(after.statTarget).toBe(500);
      expect(after.replicaIdentity).toEqual(['f']);
      expect(after.pkIndex).toBe('petri_observations');
      expect(after.codeIndex).toBe('petri_observations');
      expect(after.serialOwner).toBe('public.petri_observations_legacy_no_seq');
      const oldPk = await ctx.client.query(`SELECT indrelid::regclass::text AS t FROM pg_index WHERE indexrelid = 'public.petri_observations_old_pkey'::regclass`);
      expect(oldPk.rows[0].t).toBe('petri_observations_old');
      expect(await tableChecksum(ctx.client, 'public.petri_observations')).toEqual(original);
      // the partitioned parent and its partitions were analyzed
      const analyzed = await ctx.client.query(`SELECT count(*)::int AS n FROM pg_class WHERE oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'public.petri_observations'::regclass) AND reltuples < 0`);
      expect(analyzed.rows[0].n).toBe(0);

      // the application writes through the original name: identity continues above the old maximum, triggers fire,
      // and reverse capture keeps the old table up to date
      const ins = await ctx.client.query(
        `INSERT INTO public.petri_observations (program_id, petri_code, lab_id) SELECT program_id, 'after-swap', 1 FROM public.pilot_programs LIMIT 1 RETURNING observation_id, seq_no`);
      expect(Number(ins.rows[0].seq_no)).toBeGreaterThan(maxSeq);
      const audited = await ctx.client.query(`SELECT count(*)::int AS n FROM public.obs_audit WHERE observation_id = $1`, [ins.rows[0].observation_id]);
      expect(audited.rows[0].n).toBe(1);
      await ctx.client.query(`UPDATE public.petri_observations SET growth_index = 7 WHERE petri_code = 'after-swap'`);
      const stamped = await ctx.client.query(`SELECT updated_at IS NOT NULL AS ok FROM public.petri_observations WHERE petri_code = 'after-swap'`);
      expect(stamped.rows[0].ok).toBe(true);

      // swap again: nothing to do
      const again = await runSwap(ctx);
      expect(again.exitCode).toBe(0);
      expect(again.summary).toMatch(/already.*nothing to do/);
      // as if the process died right after the commit, before validating the moved foreign key: a re-run finishes it
      await ctx.client.query(`ALTER TABLE public.petri_images DROP CONSTRAINT "petri_images_obs;fkey",
        ADD CONSTRAINT "petri_images_obs;fkey" FOREIGN KEY (observation_id, program_id) REFERENCES public.petri_observations (observation_id, program_id) ON DELETE CASCADE NOT VALID`);
      const resumed = await runSwap(ctx);
      expect(resumed.exitCode, resumed.summary).toBe(0);
      expect(resumed.summary).toMatch(/1 foreign key\(s\) left NOT VALID were validated/);
      expect((await bindings(ctx.client)).fkIn).toEqual(after.fkIn);

      const rolled = await runRollback(ctx);
      expect(rolled.summary).toMatch(/swapped back/);
      expect(rolled.exitCode, rolled.summary).toBe(0);
      const back = await bindings(ctx.client);
      expect(back).toEqual(before);
      // the write made after the swap is in the restored original, and the audit trigger did not fire a second time
      const kept = await ctx.client.query(`SELECT growth_index::int AS g, seq_no FROM public.petri_observations WHERE petri_code = 'after-swap'`);
      expect(kept.rows).toEqual([{ g: 7, seq_no: ins.rows[0].seq_no }]);
      expect((await ctx.client.query(`SELECT count(*)::int AS n FROM public.obs_audit WHERE observation_id = $1`, [ins.rows[0].observation_id])).rows[0].n).toBe(1);
      // the original's identity continues above what the partitioned table handed out
      const next = await ctx.client.query(`INSERT INTO public.petri_observations (program_id, petri_code) SELECT program_id, 'after-rollback' FROM public.pilot_programs LIMIT 1 RETURNING seq_no`);
      expect(Number(next.rows[0].seq_no)).toBeGreaterThan(Number(ins.rows[0].seq_no));
      // the copy stays in sync through forward capture: state "migrated", verification needed again
      const refused = await runSwap(ctx);
      expect(refused.exitCode).toBe(3);
      expect(refused.summary).toMatch(/never verified|verify --data/);
    } finally {
      await close();
    }
  });

  it('finish removes capture and keeps the old table (printing backup and DROP); rollback is then refused; --drop-old drops it', async () => {
    const { ctx, events, close } = await engineContext(db.config);
    try {
      const verified = await runVerifyData(ctx);
      expect(verified.exitCode, verified.summary).toBe(0);
      expect((await runSwap(ctx)).exitCode).toBe(0);
      const finished = await runFinish(ctx);
      expect(finished.exitCode, finished.summary).toBe(0);
      const data = finished.data as { backupCommand: string; dropStatement: string };
      expect(data.backupCommand).toMatch(/^pg_dump .*--table='"public"\."petri_observations_old"'/);
      expect(data.dropStatement).toBe('DROP TABLE "public"."petri_observations_old";');
      if (typeof db.config.password === 'string' && db.config.password) {
        expect(JSON.stringify(events) + finished.summary).not.toContain(db.config.password);
      }
      const capture = await ctx.client.query(`SELECT count(*)::int AS n FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
                                               WHERE p.pronamespace = 'partwise'::regnamespace AND p.proname LIKE 'capture%'`);
      expect(capture.rows[0].n).toBe(0);
      expect((await ctx.client.query(`SELECT to_regclass('public.petri_observations_old') IS NOT NULL AS ok`)).rows[0].ok).toBe(true);

      const refused = await runRollback(ctx);
      expect(refused.exitCode).toBe(1);
      expect(refused.summary).toMatch(/reverse capture is not installed.*nothing was changed/);
      expect((await ctx.client.query(`SELECT relkind::text AS k FROM pg_class WHERE oid = 'public.petri_observations'::regclass`)).rows[0].k).toBe('p');

      const dropped = await runFinish(ctx, { dropOld: true });
      expect(dropped.exitCode, dropped.summary).toBe(0);
      expect((await ctx.client.query(`SELECT to_regclass('public.petri_observations_old') IS NULL AS gone`)).rows[0].gone).toBe(true);
      // the serial default survived the drop: its sequence belongs to the partitioned table now
      // (docs/behaviours/serial-sequence-follows-its-owner.md)
      const ins = await ctx.client.query(`INSERT INTO public.petri_observations (program_id) SELECT program_id FROM public.pilot_programs LIMIT 1 RETURNING legacy_no`);
      expect(ins.rows[0].legacy_no).toBeGreaterThan(0);
    } finally {
      await close();
    }
  });
});

describe('swap while another session holds a lock on the table', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('pw_test_swap_lock');
    await seedScenario(db.config, 1000, 3);
  });
  afterAll(async () => db?.drop());

  it('waits lock_timeout per attempt, reports the blocking pid and query, retries, gives up with nothing changed; then succeeds', async () => {
    const retry = { lockTimeoutMs: 200, attempts: 3, baseDelayMs: 20, maxDelayMs: 50 };
    const { ctx, events, close } = await engineContext(db.config, {}, retry);
    const blocker = new pg.Client(db.config);
    await blocker.connect();
    try {
      await createMigrateVerify(ctx);
      const pid = (await blocker.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
      // ACCESS SHARE (any open reader) blocks the rename's ACCESS EXCLUSIVE
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE public.petri_observations IN ACCESS SHARE MODE');
      const before = await catalogFingerprint(ctx.client);

      const r = await runSwap(ctx);
      expect(r.exitCode).toBe(1);
      expect(r.summary).toMatch(/could not get the locks in 3 attempt\(s\)/);
      expect(r.summary).toContain(`pid ${pid}`);
      expect(r.summary).toContain('LOCK TABLE public.petri_observations IN ACCESS SHARE MODE');
      const retries = events.filter((e) => e.type === 'step.retry');
      expect(retries.length).toBe(2);
      for (const e of retries) {
        if (e.type !== 'step.retry') continue;
        expect(e.step).toBe('swap');
        expect(e.blockers.map((b) => b.pid)).toContain(pid);
        expect(e.message).toMatch(/lock timeout/);
      }
      const fail = events.find((e) => e.type === 'step.fail');
      expect(fail?.type === 'step.fail' && fail.error.code).toBe('55P03');
      expect(fail?.type === 'step.fail' && fail.error.unchanged).toMatch(/nothing has changed/);

      // nothing changed: same catalog, still the original, forward capture still on
      expect(await catalogFingerprint(ctx.client)).toBe(before);
      expect((await ctx.client.query(`SELECT relkind::text AS k FROM pg_class WHERE oid = 'public.petri_observations'::regclass`)).rows[0].k).toBe('r');
      expect(await captureInstalled(ctx.client, ctx.cfg, 'forward')).toBe(true);
      expect(await captureInstalled(ctx.client, ctx.cfg, 'reverse')).toBe(false);

      await blocker.query('COMMIT');
      const ok = await runSwap(ctx);
      expect(ok.exitCode, ok.summary).toBe(0);
    } finally {
      await blocker.end();
      await close();
    }
  });

  it('refuses without a verified copy, and when the capture backlog is too large', async () => {
    const { ctx, close } = await engineContext(db.config);
    try {
      // the first test swapped: roll back (state "migrated", verification cleared)
      expect((await runRollback(ctx)).exitCode).toBe(0);
      const unverified = await runSwap(ctx);
      expect(unverified.exitCode).toBe(3);
      expect(unverified.summary).toMatch(/the rollback .* cleared the data verification.*run partwise verify --data.*nothing was changed/i);
      expect((await runVerifyData(ctx)).exitCode).toBe(0);
      await ctx.client.query(`UPDATE public.petri_observations SET growth_index = growth_index`);
      const busy = await runSwap(ctx, { maxBacklog: 10 });
      expect(busy.exitCode).toBe(3);
      expect(busy.summary).toMatch(/captured change\(s\) are still pending \(limit 10\)/);
      expect((await ctx.client.query(`SELECT relkind::text AS k FROM pg_class WHERE oid = 'public.petri_observations'::regclass`)).rows[0].k).toBe('r');
    } finally {
      await close();
    }
  });

  it('swap and rollback apply the pending log before taking any lock, so that only the last moment\'s changes are replayed under it', async () => {
    const { ctx, close } = await engineContext(db.config);
    try {
      // the previous test left the copy verified and every row's update pending (below the default limit)
      const pending = Number((await ctx.client.query(`SELECT count(*) AS n FROM ${captureNames(ctx.cfg, 'forward').logQ}`)).rows[0].n);
      expect(pending).toBeGreaterThan(100);
      const swapped = await runSwap(ctx);
      expect(swapped.exitCode, swapped.summary).toBe(0);
      const data = swapped.data as { predrained: number; replayed: number };
      expect(data.predrained).toBe(pending);
      expect(data.replayed).toBe(0);
      expect(await tableChecksum(ctx.client, 'public.petri_observations')).toEqual(await tableChecksum(ctx.client, 'public.petri_observations_old'));

      // the same for the rollback: writes made since the swap are copied back before its locks
      await ctx.client.query(`UPDATE public.petri_observations SET growth_index = growth_index WHERE observation_id IN (SELECT observation_id FROM public.petri_observations LIMIT 500)`);
      const back = Number((await ctx.client.query(`SELECT count(*) AS n FROM ${captureNames(ctx.cfg, 'reverse').logQ}`)).rows[0].n);
      expect(back).toBeGreaterThanOrEqual(500);
      const rolled = await runRollback(ctx);
      expect(rolled.exitCode, rolled.summary).toBe(0);
      expect(rolled.data).toMatchObject({ predrained: back, replayed: 0 });
      expect(await tableChecksum(ctx.client, 'public.petri_observations')).toEqual(await tableChecksum(ctx.client, 'public.petri_observations_partitioned'));
    } finally {
      await close();
    }
  });
});
