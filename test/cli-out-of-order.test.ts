/**
 * Commands run out of order get the migration state's answer (src/state/migrationState.ts, each step's refusal in
 * src/registry/steps/): exit 3, what to run instead, "nothing was changed", never a raw relation error, and the
 * catalog untouched. The real bin/partwise, on a real database, walked from nothing to a swap and back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../src/demo/seedDemo.js';
import { resultOf, runCli } from './helpers/cli.js';
import { createTestDatabase, withClient, type TestDatabase } from './helpers/db.js';
import { catalogFingerprint } from './helpers/engine.js';

describe('out-of-order commands get the state\'s answer (exit 3, nothing changed)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('pw_test_out_of_order');
    await withClient(db.config, async (c) => {
      await seedDemo(c, { rows: 1200, programs: 3 });
      // the demo's child table references observation_id alone, which the swap refuses (swap.test.ts); not the subject here
      await c.query('DROP TABLE public.petri_images');
    });
  });
  afterAll(async () => db?.drop());

  const fingerprint = () => withClient(db.config, (c) => catalogFingerprint(c));
  const cli = (args: string[]) => runCli([...args, '--json', '--url', db.url]);
  const ok = async (args: string[]) => {
    const r = await cli([...args, '--yes']);
    expect(r.code, `${args.join(' ')}: ${String(resultOf(r)?.summary)}`).toBe(0);
  };

  /** Runs the command; it must be refused with `answer`, leave the catalog as it was, and name no missing relation. */
  async function refused(args: string[], answer: RegExp) {
    const before = await fingerprint();
    const r = await cli([...args, '--yes']);
    const result = resultOf(r);
    expect({ code: r.code, summary: result?.summary }).toMatchObject({ code: 3, summary: expect.stringMatching(answer) });
    expect(String(result?.summary)).toMatch(/nothing was changed$/);
    expect(r.stdout + r.stderr).not.toMatch(/relation "[^"]*" does not exist/);
    expect((result?.data as { refused?: boolean } | undefined)?.refused).toBe(true);
    expect(await fingerprint()).toBe(before);
  }

  it('before create: every step that needs the copy says to run create first', async () => {
    await refused(['migrate', '--mode', 'all'], /^migrate refused: nothing to copy into yet: run create first/);
    await refused(['verify'], /^verify refused: nothing to verify yet: run create first/);
    await refused(['verify', '--data'], /^verify refused: nothing to verify yet: run create, then migrate, then verify --data/);
    await refused(['test-insert'], /^test-insert refused: nothing to insert into yet: run create first/);
    await refused(['swap'], /^swap refused: nothing to swap yet: run create, then migrate, then verify --data/);
    await refused(['rollback'], /^rollback refused: nothing to roll back: public\.petri_observations_partitioned does not exist and the swap has not happened/);
    await refused(['finish'], /^finish refused: finish comes after the swap: public\.petri_observations is not swapped/);
    await refused(['monitor'], /^monitor refused: nothing to monitor yet: public\.petri_observations is not partitioned and public\.petri_observations_partitioned does not exist: run create first/);
    await refused(['maintain'], /^maintain refused: nothing to maintain yet: public\.petri_observations is not partitioned and public\.petri_observations_partitioned does not exist: run create first/);
    await refused(['monitor', '--table', 'nosuch'], /^monitor refused: public\.nosuch does not exist \(check --schema and --table\)/);
    await refused(['pause'], /^pause refused: nothing to pause: no copy exists/);
    await refused(['swap', '--table', 'no_such_table'], /^swap refused: public\.no_such_table does not exist \(check --schema and --table\)/);
  });

  it('after create: create again has nothing to do, and what needs a copy says to run migrate first', async () => {
    await ok(['create']);
    await ok(['verify']);
    // idempotent while nothing is copied: it changes nothing and leaves the state as it was (verify stays done)
    const before = await fingerprint();
    const again = await cli(['create', '--yes']);
    expect({ code: again.code, summary: resultOf(again)?.summary }).toMatchObject({ code: 0, summary: expect.stringMatching(/is in place \(0 step\(s\) run, \d+ already done\): nothing to do$/) });
    expect(await fingerprint()).toBe(before);
    expect(resultOf(await cli(['status']))?.summary).toMatch(/: created: .*next: test-insert/);
    await refused(['verify', '--data'], /^verify refused: nothing is copied yet: run migrate, then verify --data/);
    // never "run verify --data" first: it would fail on the change log that only migrate creates
    await refused(['swap'], /^swap refused: nothing is copied yet: run migrate, then verify --data/);
    await refused(['finish'], /^finish refused: finish comes after the swap/);
  });

  it('after migrate: swap waits for verify --data; after a rollback of the swap, it says the rollback cleared it', async () => {
    await ok(['migrate', '--mode', 'all']);
    await refused(['swap'], /^swap refused: the data is not verified: run verify --data, then swap/);
    await refused(['create'], /^create refused: public\.petri_observations_partitioned is already created and the copy has started \(migrated: .*\); next: verify --data .*To start over: rollback, then create/);
    await ok(['verify', '--data']);
    await ok(['swap']);
    await refused(['migrate', '--mode', 'all'], /^migrate refused: the swap happened: public\.petri_observations is already the partitioned table, nothing to migrate/);
    await refused(['verify', '--data'], /^verify refused: the swap happened/);
    await ok(['rollback']);
    await refused(['swap'], /^swap refused: the rollback cleared the verification of \d\d:\d\d:\d\d: run verify --data again, then swap/);
    await ok(['rollback']);
    await refused(['rollback'], /^rollback refused: already rolled back/);
    await refused(['swap'], /^swap refused: the rollback removed the copy, nothing to swap: run create, then migrate, then verify --data/);
  });

  it('status says where it stands and what is next; a step\'s flags belong to that step', async () => {
    const s = await cli(['status']);
    expect(s.code).toBe(0);
    expect(resultOf(s)?.summary).toMatch(/^public\.petri_observations: rolled back: .*next: create \(the rollback removed the copy: create starts again\)$/);
    const wrong = await runCli(['swap', '--mode', 'all', '--url', db.url]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/--mode is not an option of swap \(it belongs to migrate\)/);
    const help = await runCli(['migrate', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: partwise migrate/);
    expect(help.stdout).toMatch(/--max-latency-ratio R/);
    expect(help.stdout).not.toMatch(/--drop-old/);
  });
});
