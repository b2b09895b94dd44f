/**
 * Where the migration stands (src/state/migrationState.ts), walked through every sequence of steps a DBA can take, on
 * a real database with the real steps (through the registry, as the CLI and the app run them). After each step the
 * state is read from a second session, as another terminal would: the phase, every checklist step's state and the
 * next step. Rollback at each point, create again after a rollback, runs stopped safely, killed (SIGKILL), failed,
 * and a step running in another process.
 */
import { spawn } from 'node:child_process';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { runCommand } from '../src/cli/commands.js';
import { resolveConfig } from '../src/config/config.js';
import { openSession } from '../src/db/session.js';
import { seedDemo } from '../src/demo/seedDemo.js';
import type { EngineEvent } from '../src/events.js';
import type { FlagValues } from '../src/registry/types.js';
import type { MigrationState, PhaseId, StepState } from '../src/state/migrationState.js';
import { readMigrationState } from '../src/state/readState.js';
import type { StepContext, StepResult } from '../src/steps/context.js';
import { BIN } from './helpers/cli.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';

const cfg = resolveConfig({});
const ROWS = 1500;

/** The checklist's lines in order: 1 check … 7 monitor, then R. */
const LINES = ['check', 'create', 'verify', 'test-insert', 'migrate', 'swap', 'monitor', 'rollback'] as const;
const SHORT: Record<string, StepState> = { '·': 'pending', '>': 'running', '✔': 'done', '✘': 'failed', '!': 'interrupted', '-': 'skipped', '~': 'stale' };

/** "✔✔·· ·· ··" (spaces ignored) as the eight states. */
function states(signs: string): Record<(typeof LINES)[number], StepState> {
  const list = [...signs.replace(/ /g, '')];
  if (list.length !== LINES.length) throw new Error(`expected ${LINES.length} signs: ${signs}`);
  return Object.fromEntries(LINES.map((id, i) => [id, SHORT[list[i]!]!])) as Record<(typeof LINES)[number], StepState>;
}

interface Expect {
  phase: PhaseId;
  /** check create verify test-insert migrate swap monitor rollback */
  signs: string;
  /** the next step's command (null: nothing left) */
  next: string | null;
}

interface World {
  db: TestDatabase;
  /** the engine's session: runs the steps */
  ctx: StepContext;
  /** another session: reads the state as a second terminal would */
  other: pg.Client;
  events: EngineEvent[];
}

type Action = (w: World) => Promise<unknown>;

const run = (command: string, flags: FlagValues = {}, exitCode = 0): Action => async (w) => {
  const r = await runCommand(command, w.ctx, flags);
  expect(r.exitCode, `${command}: ${r.summary}`).toBe(exitCode);
  return r;
};

const create = run('create');
const verify = run('verify');
const testInsert = run('test-insert', { rows: '20' });
const migrate = run('migrate', { mode: 'all' });
const verifyData = run('verify', { data: true });
const swap = run('swap');
const rollback = run('rollback');
const finish = run('finish');

/** migrate stopped safely (as q or SIGTERM does) after its first committed batch. */
const migrateStopped: Action = async (w) => {
  const abort = new AbortController();
  const ctx: StepContext = { ...w.ctx, signal: abort.signal, emit: (e) => e.type === 'progress.overall' && e.copied > 0 && abort.abort() };
  const r = await runCommand('migrate', ctx, { mode: 'all', 'batch-size': '100' });
  expect(r.exitCode, r.summary).toBe(130);
};

/** migrate in another process, killed with SIGKILL after a committed batch; done once its server session is gone. */
const migrateKilled: Action = async (w) => {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const k of ['DATABASE_URL', 'PGHOST', 'PGPORT', 'PGUSER', 'PGPASSWORD', 'PGDATABASE']) delete env[k];
  const child = spawn(process.execPath, [BIN, 'migrate', '--mode', 'all', '--batch-size', '100', '--sleep-ms', '200', '--url', w.db.url, '--yes', '--json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d;
      if (out.split('\n').some((l) => l.includes('"progress.overall"') && /"copied":[1-9]/.test(l))) resolve();
    });
    void exited.then(() => reject(new Error(`migrate ended before it was killed: ${out}`)));
  });
  child.kill('SIGKILL');
  await exited;
  // the server notices the dead client on its own schedule: wait for the state to see it, not for a fixed time
  for (let i = 0; i < 600; i++) {
    if ((await readMigrationState(w.other, cfg)).steps.migrate.state === 'interrupted') return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the killed migrate never showed as interrupted');
};

/** swap while another session holds a lock on the new table: it fails after its retries, nothing changed. */
const swapBlocked: Action = async (w) => {
  const blocker = await openSession(w.db.config);
  try {
    await blocker.query('BEGIN');
    await blocker.query(`LOCK TABLE public.petri_observations_partitioned IN ACCESS SHARE MODE`);
    const r = await runCommand('swap', { ...w.ctx, retry: { lockTimeoutMs: 100, attempts: 2, baseDelayMs: 10, maxDelayMs: 20 } }, {});
    expect(r.exitCode, r.summary).toBe(1);
    expect(r.summary).toMatch(/could not get the locks/);
  } finally {
    await blocker.end();
  }
};

/** migrate that fails: a writer's open transaction keeps it from installing change capture, through every retry. */
const migrateFails: Action = async (w) => {
  const writer = await openSession(w.db.config);
  try {
    await writer.query('BEGIN');
    await writer.query(`LOCK TABLE public.petri_observations IN ROW EXCLUSIVE MODE`);
    const r = await runCommand('migrate', { ...w.ctx, retry: { lockTimeoutMs: 100, attempts: 2, baseDelayMs: 10, maxDelayMs: 20 } }, { mode: 'all' });
    expect(r.exitCode, r.summary).toBe(1);
  } finally {
    await writer.end();
  }
};

const refused = (command: string, flags: FlagValues = {}) => run(command, flags, 3);

async function newWorld(): Promise<World> {
  const db = await createTestDatabase('pw_state_table');
  const admin = await openSession(db.config);
  await seedDemo(admin, { rows: ROWS, programs: 3 });
  // the demo's child table references observation_id alone, which the swap refuses (see swap.test.ts); not this test's subject
  await admin.query('DROP TABLE public.petri_images');
  await admin.end();
  const client = await openSession(db.config);
  const other = await openSession(db.config);
  const events: EngineEvent[] = [];
  const ctx: StepContext = { client, connection: db.config, cfg, emit: (e) => events.push(e), retry: { lockTimeoutMs: 500, attempts: 3, baseDelayMs: 20, maxDelayMs: 100 }, poolerProblem: null };
  return { db, ctx, other, events };
}

async function closeWorld(w: World): Promise<void> {
  await w.ctx.client.end().catch(() => undefined);
  await w.other.end().catch(() => undefined);
  await w.db.drop();
}

function describeState(s: MigrationState): string {
  return `${s.phase}: ${LINES.map((id) => `${id}=${s.steps[id].state}${s.steps[id].note ? ` (${s.steps[id].note})` : ''}`).join(', ')}; next ${s.next?.command ?? 'none'}`;
}

async function expectState(w: World, e: Expect, label: string): Promise<MigrationState> {
  const s = await readMigrationState(w.other, cfg);
  const seen = { phase: s.phase, states: Object.fromEntries(LINES.map((id) => [id, s.steps[id].state])), next: s.next?.command ?? null };
  expect(seen, `${label}\n${describeState(s)}`).toEqual({ phase: e.phase, states: states(e.signs), next: e.next });
  return s;
}

// phase, then the signs of: 1 check, 2 create, 3 verify, 4 test insert, 5 migrate, 6 swap, 7 monitor, R rollback
const NOTHING: Expect = { phase: 'nothing', signs: '···· ··· ·', next: 'check' };
const CREATED: Expect = { phase: 'created', signs: '✔✔·· ··· ·', next: 'verify' };
const MIGRATED: Expect = { phase: 'migrated', signs: '✔✔·- ✔·· ·', next: 'verify --data' };
const VERIFIED: Expect = { phase: 'migrated', signs: '✔✔✔- ✔·· ·', next: 'swap' };
const SWAPPED: Expect = { phase: 'swapped', signs: '✔✔✔- ✔✔· ·', next: 'monitor' };

const SEQUENCES: Array<[string, Array<[string, Action | null, Expect]>]> = [
  ['the whole way: create, verify, test insert, migrate, verify --data, swap, finish', [
    ['nothing yet', null, NOTHING],
    ['create', create, CREATED],
    ['verify', verify, { phase: 'created', signs: '✔✔✔· ··· ·', next: 'test-insert' }],
    ['test insert', testInsert, { phase: 'created', signs: '✔✔✔✔ ··· ·', next: 'migrate' }],
    // the structure was verified before the copy: the data is not, yet
    ['migrate', migrate, { phase: 'migrated', signs: '✔✔·✔ ✔·· ·', next: 'verify --data' }],
    ['verify --data', verifyData, { phase: 'migrated', signs: '✔✔✔✔ ✔·· ·', next: 'swap' }],
    ['swap', swap, { phase: 'swapped', signs: '✔✔✔✔ ✔✔· ·', next: 'monitor' }],
    ['finish', finish, { phase: 'finished', signs: '✔✔✔✔ ✔✔✔ ·', next: null }],
    ['rollback after finish is refused', refused('rollback'), { phase: 'finished', signs: '✔✔✔✔ ✔✔✔ ·', next: null }],
  ]],
  ['rollback right after create, then create again', [
    ['create', create, CREATED],
    ['rollback', rollback, { phase: 'rolled-back', signs: '✔~·· ··· ✔', next: 'create' }],
    ['rollback again is refused', refused('rollback'), { phase: 'rolled-back', signs: '✔~·· ··· ✔', next: 'create' }],
    ['create again', create, CREATED],
  ]],
  ['rollback after migrate, then create again: the earlier copy\'s steps are stale', [
    ['create', create, CREATED],
    ['test insert', testInsert, { phase: 'created', signs: '✔✔·✔ ··· ·', next: 'verify' }],
    ['migrate', migrate, { phase: 'migrated', signs: '✔✔·✔ ✔·· ·', next: 'verify --data' }],
    ['rollback', rollback, { phase: 'rolled-back', signs: '✔~·~ ~·· ✔', next: 'create' }],
    ['create again', create, { phase: 'created', signs: '✔✔·~ ~·· ·', next: 'verify' }],
  ]],
  ['rollback after verify --data', [
    ['create', create, CREATED],
    ['migrate', migrate, MIGRATED],
    ['verify --data', verifyData, VERIFIED],
    ['rollback', rollback, { phase: 'rolled-back', signs: '✔~~· ~·· ✔', next: 'create' }],
  ]],
  ['swap, rollback (swap back), swap again, rollback twice, create again', [
    ['create', create, CREATED],
    ['migrate', migrate, MIGRATED],
    ['swap before verify --data is refused', refused('swap'), MIGRATED],
    ['verify --data', verifyData, VERIFIED],
    ['swap', swap, SWAPPED],
    // the copy stays in sync, but the swap is undone and its verification cleared
    ['rollback after the swap', rollback, { phase: 'rolled-back', signs: '✔✔~- ✔~· ✔', next: 'verify --data' }],
    ['swap right after the rollback is refused', refused('swap'), { phase: 'rolled-back', signs: '✔✔~- ✔~· ✔', next: 'verify --data' }],
    ['verify --data', verifyData, { phase: 'migrated', signs: '✔✔✔- ✔~· ·', next: 'swap' }],
    ['swap again', swap, SWAPPED],
    ['rollback after the second swap', rollback, { phase: 'rolled-back', signs: '✔✔~- ✔~· ✔', next: 'verify --data' }],
    ['rollback again: removes the copy', rollback, { phase: 'rolled-back', signs: '✔~~· ~~· ✔', next: 'create' }],
    ['create again: nothing of the old copy holds', create, { phase: 'created', signs: '✔✔~· ~~· ·', next: 'verify' }],
  ]],
  ['migrate stopped safely, then resumed', [
    ['create', create, CREATED],
    ['migrate, stopped after a batch', migrateStopped, { phase: 'copying', signs: '✔✔·- !·· ·', next: 'migrate' }],
    ['migrate again', migrate, MIGRATED],
  ]],
  ['migrate killed (SIGKILL), then resumed', [
    ['create', create, CREATED],
    ['migrate in another process, killed', migrateKilled, { phase: 'copying', signs: '✔✔·- !·· ·', next: 'migrate' }],
    ['rollback of the interrupted copy', rollback, { phase: 'rolled-back', signs: '✔~·· ~·· ✔', next: 'create' }],
    ['create again', create, { phase: 'created', signs: '✔✔·· ~·· ·', next: 'verify' }],
    ['migrate', migrate, MIGRATED],
  ]],
  ['failed runs: migrate, then swap', [
    ['create', create, CREATED],
    ['migrate fails', migrateFails, { phase: 'copying', signs: '✔✔·- ✘·· ·', next: 'migrate' }],
    ['migrate again', migrate, MIGRATED],
    ['verify --data', verifyData, VERIFIED],
    ['swap fails on a lock', swapBlocked, { phase: 'migrated', signs: '✔✔✔- ✔✘· ·', next: 'swap' }],
    ['swap', swap, SWAPPED],
  ]],
  ['one program only, then all', [
    ['create', create, CREATED],
    ['migrate --mode one', run('migrate', { mode: 'one' }), { phase: 'copying', signs: '✔✔·- ··· ·', next: 'migrate' }],
    ['migrate --mode all', migrate, MIGRATED],
  ]],
];

describe('the migration state, step by step (real database, real steps)', () => {
  for (const [name, steps] of SEQUENCES) {
    it(name, async () => {
      const w = await newWorld();
      try {
        for (const [label, action, expected] of steps) {
          if (action) await action(w);
          await expectState(w, expected, label);
        }
      } finally {
        await closeWorld(w);
      }
    });
  }

  it('what the state says along the way: interrupted at N%, the reasons of next, and a step running in another session', async () => {
    const w = await newWorld();
    try {
      await create(w);
      await migrateStopped(w);
      let s = await readMigrationState(w.other, cfg);
      expect(s.copy).toMatchObject({ total: ROWS, interrupted: true, running: false, complete: false });
      expect(s.copy!.copied).toBeGreaterThan(0);
      expect(s.copy!.copied).toBeLessThan(ROWS);
      expect(s.copy!.percent).toBe(Math.floor((s.copy!.copied * 100) / ROWS));
      expect(s.summary).toBe(`copying: interrupted at ${s.copy!.percent}% (${s.copy!.copied.toLocaleString('en-US')} of ${ROWS.toLocaleString('en-US')} rows copied)`);
      expect(s.steps.migrate.note).toMatch(new RegExp(`^interrupted at ${s.copy!.percent}% \\(`));
      expect(s.next!.why).toMatch(/^resume at \d+% \([\d,]+ rows copied\)/);

      // a migrate running in this session, seen from the other one; paused from there
      const abort = new AbortController();
      let batches = 0;
      let batchDone = () => undefined as void;
      const firstBatch = new Promise<void>((resolve) => (batchDone = resolve));
      const running = runCommand('migrate', {
        ...w.ctx, signal: abort.signal,
        emit: (e) => {
          if (e.type === 'progress.overall' && ++batches === 2) batchDone();
        },
      }, { mode: 'all', 'batch-size': '50', 'max-rate': '100' });
      await Promise.race([firstBatch, running.then((r: StepResult) => { throw new Error(`migrate ended: ${r.summary}`); })]);
      s = await readMigrationState(w.other, cfg);
      expect(s.phase).toBe('copying');
      expect(s.steps.migrate.state).toBe('running');
      expect(s.running).toMatchObject({ step: 'migrate', pid: (await w.ctx.client.query('SELECT pg_backend_pid() AS p')).rows[0]?.p });
      expect(s.next).toMatchObject({ command: 'migrate', why: expect.stringMatching(/^migrate is running \(server pid \d+\)/) });
      // the other terminal's changes are refused while it runs, and pausing it is seen
      const second: StepContext = { ...w.ctx, client: w.other, emit: () => undefined };
      expect((await runCommand('rollback', second, {})).summary).toMatch(/^rollback refused: migrate is running \(server pid \d+/);
      expect((await runCommand('pause', second, {})).exitCode).toBe(0);
      s = await readMigrationState(w.other, cfg);
      expect(s.copy).toMatchObject({ running: true, paused: true });
      expect(s.summary).toMatch(/^copying: \d+% .*, paused$/);
      abort.abort();
      expect((await running).exitCode).toBe(130);
      s = await readMigrationState(w.other, cfg);
      expect(s.steps.migrate.state).toBe('interrupted');
    } finally {
      await closeWorld(w);
    }
  });
});
