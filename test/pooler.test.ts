/**
 * PgBouncer in transaction mode in front of the test server: partwise finds it before it sets anything, idle and
 * under load, and refuses; no pooled server connection carries partwise's settings or locks to another client.
 * The same PgBouncer in session mode, and a direct connection, are not taken for one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { connectPlain, detectTransactionPooler } from '../src/db/session.js';
import { seedDemo } from '../src/demo/seedDemo.js';
import { createTestDatabase, withClient, type TestDatabase } from './helpers/db.js';
import { resultOf, runCli } from './helpers/cli.js';
import { connect, dropDemoForeignKeysIn } from './helpers/moveSetup.js';
import { startPgBouncer, type PgBouncer } from './helpers/pgbouncer.js';

const POOL = 3;

/** Application clients writing through the pooler as fast as they can: every server connection busy most of the time. */
async function startLoad(config: pg.ClientConfig, clients = 5): Promise<{ stop(): Promise<number> }> {
  let running = true;
  let writes = 0;
  const sessions = await Promise.all(Array.from({ length: clients }, () => connect(config)));
  const loops = sessions.map(async (c) => {
    while (running) {
      await c.query(`INSERT INTO public.load_writes (v) VALUES (random())`);
      writes++;
    }
    await c.end();
  });
  // wait until the load is actually running
  while (writes < 50) await new Promise((r) => setTimeout(r, 20));
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return writes;
    },
  };
}

/**
 * Every server connection the pooler holds, seen by new application clients: POOL clients each open a transaction
 * at once, so each has a server connection of its own, and together they hold all of them.
 */
async function serverConnections(bouncer: PgBouncer, db: TestDatabase) {
  const clients = await Promise.all(Array.from({ length: POOL }, () => connect(bouncer.config('pw_tx'))));
  try {
    const seen = [];
    for (const c of clients) {
      await c.query('BEGIN');
      const r = await c.query(
        `SELECT pg_backend_pid() AS pid, current_setting('statement_timeout') AS statement_timeout, current_setting('lock_timeout') AS lock_timeout,
                current_setting('idle_in_transaction_session_timeout') AS idle_timeout, current_setting('application_name') AS application_name`,
      );
      seen.push(r.rows[0]);
    }
    // the pooler's own list of its server connections for this database (its admin console)
    const backends = await withClient(bouncer.config('pgbouncer'), async (admin) =>
      (await admin.query<{ database: string; remote_pid: string }>('SHOW SERVERS')).rows.filter((r) => r.database === 'pw_tx').map((r) => Number(r.remote_pid)),
    );
    // advisory locks in this database (other test files use the same server)
    const locks = await withClient(db.config, async (d) =>
      Number((await d.query(`SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`)).rows[0].n));
    return { seen, backends, locks };
  } finally {
    for (const c of clients) await c.end().catch(() => undefined);
  }
}

describe('a transaction-mode pooler (PgBouncer)', () => {
  let db: TestDatabase;
  let bouncer: PgBouncer;

  beforeAll(async () => {
    db = await createTestDatabase('pw_test_pooler');
    await withClient(db.config, async (c) => {
      await seedDemo(c, { rows: 2000, programs: 3 });
      await dropDemoForeignKeysIn(c);
      await c.query('CREATE TABLE public.load_writes (id bigserial PRIMARY KEY, v float8)');
    });
    bouncer = await startPgBouncer({ pw_tx: { dbname: db.name, mode: 'transaction' }, pw_sess: { dbname: db.name, mode: 'session' } }, POOL);
  });
  afterAll(async () => {
    await bouncer?.stop();
    await db?.drop();
  });

  const detect = async (config: pg.ClientConfig) => {
    const c = await connectPlain(config);
    try {
      return await detectTransactionPooler(c, config);
    } finally {
      await c.end();
    }
  };

  it('is found every time with an idle pool and under load; session mode and a direct connection are not taken for one', async () => {
    for (let i = 0; i < 10; i++) expect(await detect(bouncer.config('pw_tx')), `idle, attempt ${i + 1}`).not.toBeNull();
    const load = await startLoad(bouncer.config('pw_tx'));
    try {
      for (let i = 0; i < 10; i++) expect(await detect(bouncer.config('pw_tx')), `under load, attempt ${i + 1}`).not.toBeNull();
    } finally {
      expect(await load.stop()).toBeGreaterThan(0);
    }
    for (let i = 0; i < 3; i++) expect(await detect(bouncer.config('pw_sess')), 'session mode').toBeNull();
    expect(await detect(db.config)).toBeNull();
  });

  for (const loaded of [false, true]) {
    it(`partwise refuses through it ${loaded ? 'under load' : 'with an idle pool'}, sets nothing, and no pooled connection carries its settings or locks`, async () => {
      const load = loaded ? await startLoad(bouncer.config('pw_tx')) : null;
      try {
        const check = await runCli(['check', '--json', '--url', bouncer.url('pw_tx')]);
        const pooler = check.events.find((e) => e.type === 'check' && (e.item as { id: string }).id === 'pooler');
        expect(pooler, check.stdout).toMatchObject({ item: { status: 'fail' } });
        expect(resultOf(check)).toMatchObject({ ok: false, exitCode: 3 });
        for (const args of [['create', '--yes'], ['migrate', '--yes', '--mode', 'all'], ['status']]) {
          const r = await runCli([...args, '--json', '--url', bouncer.url('pw_tx')]);
          expect(resultOf(r), `${args[0]}: ${r.stdout}${r.stderr}`).toMatchObject({ ok: false, exitCode: 1 });
          expect(String(resultOf(r)!.summary)).toMatch(/transaction-mode pooler/);
        }
      } finally {
        await load?.stop();
      }
      const { seen, backends, locks } = await serverConnections(bouncer, db);
      // the visitors held every server connection the pooler has
      expect(new Set(seen.map((s) => s.pid)).size).toBe(POOL);
      expect(backends.length).toBeGreaterThan(0);
      for (const pid of backends) expect(seen.map((s) => s.pid)).toContain(pid);
      for (const s of seen) expect(s).toMatchObject({ statement_timeout: '0', lock_timeout: '0', idle_timeout: '0', application_name: '' });
      expect(locks).toBe(0);
      // nothing was created through the pooler
      expect(await withClient(db.config, async (d) => (await d.query(`SELECT to_regclass('public.petri_observations_partitioned') AS t`)).rows[0].t)).toBeNull();
    });
  }

  it('the same commands work directly afterwards: no lock or lease left behind names the pooler', async () => {
    const create = await runCli(['create', '--yes', '--json', '--url', db.url]);
    expect(resultOf(create), create.stdout).toMatchObject({ ok: true });
    const migrate = await runCli(['migrate', '--yes', '--mode', 'all', '--json', '--url', db.url]);
    expect(resultOf(migrate), migrate.stdout).toMatchObject({ ok: true });
  });
});
