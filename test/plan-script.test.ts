/**
 * partwise plan shows the whole migration from where it stands, with the values the steps run with: create's steps
 * with the real lock_timeout (never a placeholder), migrate's change capture (SHARE ROW EXCLUSIVE on the source), and
 * once the copy exists the swap with its LOCK TABLE statements and the shorter lock_timeout it runs with, and the
 * rollback after it with the reverse. --lock-timeout is what every step then uses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { engineContext } from './helpers/engine.js';
import { runCommand } from '../src/cli/commands.js';
import { seedScenario } from './helpers/swapScenario.js';

const S = '"public"."petri_observations"';
const N = '"public"."petri_observations_partitioned"';

/** The script's section whose headings start with `prefix` (up to the next section). */
function section(script: string, prefix: string): string {
  const blocks = script.split('\n\n');
  return blocks.filter((b) => b.startsWith(`-- ${prefix}`)).join('\n\n');
}

describe('partwise plan', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('pw_test_plan_script');
    await seedScenario(db.config, 600, 2);
  }, 120_000);
  afterAll(async () => db?.drop());

  it('before create: create with the real lock_timeout, then change capture; the swap once create has run', async () => {
    const r = await runCli(['plan', '--url', db.url]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('<--lock-timeout>');
    expect(r.stdout).toMatch(/BEGIN;\nSET LOCAL lock_timeout = '1500ms';\nSET LOCAL search_path = "pg_catalog", "pg_temp";\nCREATE TABLE "public"\."petri_observations_partitioned" \(/);
    const migrate = section(r.stdout, 'migrate:');
    expect(migrate).toContain(`LOCK TABLE ${S} IN SHARE ROW EXCLUSIVE MODE;`);
    expect(migrate).toContain('lock: SHARE ROW EXCLUSIVE on "public"."petri_observations"');
    expect(r.stdout).toContain('-- swap: its SQL depends on what create built');
  });

  it('after create and migrate: the swap with its LOCK TABLE statements and lock_timeout, and the rollback with the reverse', async () => {
    const { ctx, close } = await engineContext(db.config);
    try {
      for (const [command, flags] of [['create', {}], ['migrate', { mode: 'all' }]] as const) {
        const x = await runCommand(command, ctx, flags);
        expect(x.exitCode, x.summary).toBe(0);
      }
    } finally {
      await close();
    }
    const r = await runCli(['plan', '--url', db.url]);
    expect(r.code, r.stderr).toBe(0);
    const swap = section(r.stdout, 'swap:');
    expect(swap).toContain("SET LOCAL lock_timeout = '1000ms';");
    expect(swap).not.toContain("lock_timeout = '1500ms'");
    const locks = swap.split('\n').filter((l) => l.startsWith('LOCK TABLE') || l.startsWith('SET LOCAL lock_timeout'));
    // SHARE UPDATE EXCLUSIVE on the three tables before the gate; from the idle table's ACCESS EXCLUSIVE on, every
    // wait is bounded below deadlock_timeout (1s: 1/4 of it); the live table goes straight to ACCESS EXCLUSIVE
    // (docs/behaviours/deadlock-victim-is-the-first-waiter.md)
    expect(locks).toEqual([
      "SET LOCAL lock_timeout = '1000ms';",
      `LOCK TABLE ${S} IN SHARE UPDATE EXCLUSIVE MODE;`, 'LOCK TABLE "public"."petri_images" IN SHARE UPDATE EXCLUSIVE MODE;', `LOCK TABLE ${N} IN SHARE UPDATE EXCLUSIVE MODE;`,
      `LOCK TABLE ${N} IN ACCESS EXCLUSIVE MODE;`, "SET LOCAL lock_timeout = '250ms';", `LOCK TABLE ${S} IN ACCESS EXCLUSIVE MODE;`,
      'LOCK TABLE "public"."petri_images" IN ACCESS EXCLUSIVE MODE;', `LOCK TABLE ${S} IN SHARE ROW EXCLUSIVE MODE;`, "SET LOCAL lock_timeout = '2s';",
    ]);
    expect(swap).toContain(`ALTER TABLE ${S} RENAME TO "petri_observations_old";`);
    const back = section(r.stdout, 'rollback after the swap');
    expect(back).toContain('LOCK TABLE "public"."petri_images" IN SHARE UPDATE EXCLUSIVE MODE;');
    expect(back).not.toContain(`LOCK TABLE ${N}`);
    expect(back).toContain("SET LOCAL lock_timeout = '1000ms';");
    expect(back).toContain('LOCK TABLE "public"."petri_observations_old" IN ACCESS EXCLUSIVE MODE;');
    expect(back).toContain(`ALTER TABLE ${S} RENAME TO "petri_observations_partitioned";`);
    expect(back).toContain(`ALTER TABLE "public"."petri_observations_old" RENAME TO "petri_observations";`);

    // --lock-timeout: every step waits that long, the swap and the rollback too
    const given = await runCli(['plan', '--lock-timeout', '2500', '--url', db.url]);
    expect(given.code, given.stderr).toBe(0);
    expect(section(given.stdout, 'swap:')).toContain("SET LOCAL lock_timeout = '2500ms';");
    expect(section(given.stdout, 'rollback after the swap')).toContain("SET LOCAL lock_timeout = '2500ms';");
    expect(given.stdout).not.toMatch(/lock_timeout = '(1000|1500)ms'/);
  });
});
