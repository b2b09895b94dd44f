/**
 * What is shown is what runs: each step's SQL preview (the app's SQL pane, built by src/registry/preview.ts previewOf)
 * lists exactly the statements the step then sends. The session's query method is wrapped and records every
 * statement; reads and the journal's own records are left out by the two rules of test/helpers/recordingClient.ts,
 * and everything else must be, in order, the preview's statements (a statement the preview marks conditional may be
 * absent; each test says which cases it expects to have run). Covers create, migrate's set-up (change capture),
 * the swap, the rollback after the swap (the journaled reverse) and the rollback before it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../src/cli/commands.js';
import { Journal } from '../src/journal/journal.js';
import { TOOK_ENTRIES } from '../src/move/capture.js';
import { sqlOf, type ScriptPart } from '../src/plan/script.js';
import { stepById } from '../src/registry/index.js';
import { previewOf } from '../src/registry/preview.js';
import type { FlagValues } from '../src/registry/types.js';
import { readMigrationState } from '../src/state/readState.js';
import { SETUP } from '../src/steps/preview/setup.js';
import { swapRecordOf } from '../src/steps/rollback.js';
import { SMOKE_HAS_ROWS } from '../src/steps/smoke.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { engineContext } from './helpers/engine.js';
import { compared, flatten, isRead, matchPreview, record } from './helpers/recordingClient.js';
import { seedScenario } from './helpers/swapScenario.js';

// the steps' base policy, as the CLI makes it without --lock-timeout; the swap and the rollback get 1000ms from dispatch
const RETRY = { lockTimeoutMs: 1500, attempts: 3, baseDelayMs: 50, maxDelayMs: 200 };
const BASE_TIMEOUT = "SET LOCAL lock_timeout = '1500ms'";
const SHORT_TIMEOUT = "SET LOCAL lock_timeout = '1000ms'";
const S = '"public"."petri_observations"';
const N = '"public"."petri_observations_partitioned"';
const O = '"public"."petri_observations_old"';

describe('the SQL a step shows is the SQL it sends', () => {
  let db: TestDatabase;
  let env: Awaited<ReturnType<typeof engineContext>>;

  beforeAll(async () => {
    db = await createTestDatabase('pw_test_preview_sent');
    await seedScenario(db.config, 1500, 3);
    env = await engineContext(db.config, {}, RETRY);
  }, 120_000);
  afterAll(async () => {
    await env?.close();
    await db?.drop();
  });

  /** The step's preview now, then its run with every statement recorded; fails on a run that did not succeed. */
  async function previewThenRun(command: string, flags: FlagValues = {}): Promise<{ parts: ScriptPart[]; sent: string[] }> {
    const step = stepById(command);
    const state = await readMigrationState(env.ctx.client, env.ctx.cfg);
    const parts = await previewOf(step, env.ctx.client, env.ctx.cfg, RETRY, state, step.options(flags));
    const rec = record(env.ctx.client);
    try {
      const r = await runCommand(command, env.ctx, flags);
      expect(r.exitCode, `${command}: ${r.summary}`).toBe(0);
    } finally {
      rec.stop();
    }
    // the rule that leaves reads out must never hide a statement the preview lists
    expect(flatten(parts).map(sqlOf).filter(isRead)).toEqual([]);
    return { parts, sent: compared(rec.sent) };
  }

  const statements = (parts: ScriptPart[]) => flatten(parts).map(sqlOf);

  it('create sends exactly its preview: each step in its transaction with the real lock_timeout', async () => {
    const { parts, sent } = await previewThenRun('create');
    const m = matchPreview(flatten(parts), sent);
    expect(m.problem).toBeNull();
    expect(statements(parts).filter((s) => s === BASE_TIMEOUT).length).toBe(parts.filter((p) => p.statements.length).length);
    expect(sent.some((s) => s.startsWith(`CREATE TABLE ${N} (`))).toBe(true);
  });

  it("migrate's set-up sends exactly its preview (change capture, SHARE ROW EXCLUSIVE on the source), then the copy starts", async () => {
    // before a mode is chosen (the app's pane), mode all's index drop is shown as only happening with --mode all
    const unchosen = await previewOf(stepById('migrate'), env.ctx.client, env.ctx.cfg, RETRY, await readMigrationState(env.ctx.client, env.ctx.cfg));
    const drop = unchosen.find((p) => p.title.startsWith(SETUP) && /for the bulk copy/.test(p.title))!;
    expect(drop.statements.length).toBeGreaterThan(0);
    expect(drop.statements.every((x) => typeof x !== 'string' && /--mode all/.test(x.when))).toBe(true);
    const { parts, sent } = await previewThenRun('migrate', { mode: 'all' });
    const setup = parts.filter((p) => p.title.startsWith(SETUP));
    expect(setup.map((p) => p.title)).toEqual([expect.stringMatching(/part 1/), expect.stringMatching(/part 2/), expect.stringMatching(/secondary index\(es\) .* for the bulk copy/)]);
    expect(statements([setup[2]!]).filter((x) => x.startsWith('DROP INDEX')).length).toBeGreaterThan(0);
    expect(setup[1]!.locks).toEqual([expect.objectContaining({ mode: 'SHARE ROW EXCLUSIVE', on: S })]);
    expect(statements(setup)).toContain(`LOCK TABLE ${S} IN SHARE ROW EXCLUSIVE MODE`);
    const expected = flatten(setup);
    const m = matchPreview(expected, sent.slice(0, expected.length));
    expect(m.problem).toBeNull();
    // nothing else changed the database between the set-up and the copy's first rows: only the copy's checkpoint
    // rows, its transactions and the capture lock in share mode come before the first INSERT into the new table
    const firstRows = sent.findIndex((s, i) => i >= expected.length && s.startsWith(`INSERT INTO ${N} (`));
    expect(firstRows).toBeGreaterThan(expected.length);
    for (const s of sent.slice(expected.length, firstRows))
      expect(s).toMatch(/^(BEGIN|COMMIT|SAVEPOINT \w+|SET LOCAL synchronous_commit = 'off'|SELECT pg_advisory_xact_lock_shared\(|(INSERT INTO|DELETE FROM|UPDATE) partwise\.copy_checkpoint |SELECT [^;]* FROM partwise\.copy_checkpoint [^;]* FOR UPDATE$)/);
    // after the copy: each deferred index built as its part shows, in its own transaction
    const builds = parts.filter((p) => p.title.startsWith('after the copy: Build index'));
    expect(builds.length).toBe(statements([setup[2]!]).filter((x) => x.startsWith('DROP INDEX')).length);
    for (const b of builds) {
      const create = statements([b]).find((x) => x.startsWith('CREATE INDEX'))!;
      const at = sent.indexOf(create);
      expect(at, create).toBeGreaterThan(firstRows);
      const expectedPart = statements([b]);
      const k = expectedPart.indexOf(create);
      expect(sent.slice(at - k, at - k + expectedPart.length)).toEqual(expectedPart);
    }
    // the replay between batches is sent as the preview shapes it
    const replay = parts.find((p) => p.title.startsWith('between the batches'))!;
    const take = statements([replay]).find((s) => s.startsWith('WITH picked AS'))!;
    expect(sent).toContain(take);
  });

  it('the swap sends exactly its preview: the capture lock, the LOCK TABLE statements, the replay, the plan, then the checks', async () => {
    await runOk('verify', { data: true });
    // a write after the verification: its log entry is applied before the locks (the preview's conditional replay)
    await env.ctx.client.query(`INSERT INTO ${S} (program_id, petri_code) SELECT program_id, 'h14p-forward' FROM ${S} WHERE program_id IS NOT NULL LIMIT 1`);
    const { parts, sent } = await previewThenRun('swap');
    const all = statements(parts);
    expect(all).toContain(SHORT_TIMEOUT);
    expect(all).not.toContain(BASE_TIMEOUT);
    const lockOrder = all.filter((s) => s.startsWith('LOCK TABLE') || s.startsWith('SET LOCAL lock_timeout'));
    // SHARE UPDATE EXCLUSIVE on the three tables before the gate; from the idle table's ACCESS EXCLUSIVE on, every
    // wait is bounded below deadlock_timeout (1s: 1/4 of it); the live table goes straight to ACCESS EXCLUSIVE
    // (docs/behaviours/deadlock-victim-is-the-first-waiter.md)
    const LATE = "SET LOCAL lock_timeout = '62ms'";
    expect(lockOrder).toEqual([
      SHORT_TIMEOUT, `LOCK TABLE ${S} IN SHARE UPDATE EXCLUSIVE MODE`, 'LOCK TABLE "public"."petri_images" IN SHARE UPDATE EXCLUSIVE MODE', `LOCK TABLE ${N} IN SHARE UPDATE EXCLUSIVE MODE`,
      `LOCK TABLE ${N} IN ACCESS EXCLUSIVE MODE`, "SET LOCAL lock_timeout = '250ms'",
      // only when the switch is late (switchWaits): a short wait before each later lock and before the statements
      LATE, `LOCK TABLE ${S} IN ACCESS EXCLUSIVE MODE`, LATE, 'LOCK TABLE "public"."petri_images" IN ACCESS EXCLUSIVE MODE', LATE,
      `LOCK TABLE ${S} IN SHARE ROW EXCLUSIVE MODE`, // the last: reverse capture's install
      "SET LOCAL lock_timeout = '2s'", // after the commit: the smoke check's own transaction
    ]);
    const m = matchPreview(flatten(parts), sent);
    expect(m.problem).toBeNull();
    // the write was replayed before the locks (DELETE + INSERT of its key), and the smoke check wrote through the name
    expect(m.ranConditional.filter((s) => flatten(parts).some((e) => typeof e !== 'string' && e.sql === s && e.when === TOOK_ENTRIES)).length).toBe(2);
    expect(m.ranConditional.filter((s) => flatten(parts).some((e) => typeof e !== 'string' && e.sql === s && e.when === SMOKE_HAS_ROWS)).length).toBe(5);
  });

  it('the rollback after the swap sends exactly its preview, which holds the reverse the swap journaled', async () => {
    await env.ctx.client.query(`INSERT INTO ${S} (program_id, petri_code) SELECT program_id, 'h14p-reverse' FROM ${S} WHERE program_id IS NOT NULL LIMIT 1`);
    const journaled = (await swapRecordOf((await Journal.find(env.ctx.client, env.ctx.cfg))!))!.reverse;
    expect(journaled.length).toBeGreaterThan(5);
    const { parts, sent } = await previewThenRun('rollback');
    const all = statements(parts);
    expect(all).toContain(SHORT_TIMEOUT);
    // the journaled reverse, whole and in order, inside the switch
    const at = all.indexOf(journaled[0]!);
    expect(at).toBeGreaterThan(0);
    expect(all.slice(at, at + journaled.length)).toEqual(journaled);
    expect(all).toContain(`LOCK TABLE ${O} IN ACCESS EXCLUSIVE MODE`);
    // the referencing table the swap journaled is locked before the gate and again for its foreign key; the copy's
    // old name is gone after the swap and is not locked
    expect(all.filter((x) => x.startsWith('LOCK TABLE "public"."petri_images"'))).toEqual([
      'LOCK TABLE "public"."petri_images" IN SHARE UPDATE EXCLUSIVE MODE', 'LOCK TABLE "public"."petri_images" IN ACCESS EXCLUSIVE MODE']);
    expect(sent.filter((x) => x.startsWith('LOCK TABLE "public"."petri_images"')).length).toBe(2);
    expect(all.some((x) => x.startsWith(`LOCK TABLE ${N}`))).toBe(false);
    const m = matchPreview(flatten(parts), sent);
    expect(m.problem).toBeNull();
    expect(m.ranConditional.some((s) => s.startsWith(`DELETE FROM ${O} t WHERE`))).toBe(true);
  });

  it('the rollback before the swap sends exactly its preview: the drops and the copy journal cleared, in one transaction', async () => {
    const { parts, sent } = await previewThenRun('rollback');
    expect(parts).toHaveLength(1);
    const all = statements(parts);
    expect(all[0]).toBe('BEGIN');
    expect(all[1]).toBe(SHORT_TIMEOUT);
    expect(all).toContain(`DROP TABLE ${N}`);
    expect(all.some((s) => /^DELETE FROM partwise\.copy_checkpoint WHERE migration_id = \d+$/.test(s))).toBe(true);
    expect(matchPreview(flatten(parts), sent).problem).toBeNull();
  });

  async function runOk(command: string, flags: FlagValues) {
    const r = await runCommand(command, env.ctx, flags);
    expect(r.exitCode, `${command}: ${r.summary}`).toBe(0);
  }
});
