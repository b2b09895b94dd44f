/**
 * Labels (and other database strings) are hostile input: a newline must not end a SQL comment in the plan script,
 * and no control character may reach the terminal raw, from any headless command (human and --json) or the app.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { hasControl, safeJson, shown, shownBlock, sqlComment } from '../src/text/safe.js';
import { lit } from '../src/db/quote.js';
import { withClient } from './helpers/db.js';
import { runCli, resultOf } from './helpers/cli.js';
import { dropDemoForeignKeysIn } from './helpers/moveSetup.js';
import { demoDatabase, KEY, renderApp, type DatabaseFixture } from './screens/harness.js';

const execFileAsync = promisify(execFile);

const INJECTION = 'innocent\nDROP TABLE canary; -- ';
/** clears the screen, sets the window title (OSC ... BEL), turns text red, an 8-bit CSI, a right-to-left override */
const ESCAPES = '\u001b[2J\u001b]0;pwned\u0007\u001b[31mred\u009b1m\u202eevil\r';

/** Any control character but a line break or tab (C0, DEL, C1), or a bidirectional override / line separator. */
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

function psqlBinary(): string {
  const found = [process.env.PSQL, '/usr/bin/psql', '/usr/lib/postgresql/17/bin/psql', '/usr/lib/postgresql/15/bin/psql'].find((p) => p && existsSync(p));
  if (!found) throw new Error('psql is needed to run the plan script as a DBA would (set PSQL=/path/to/psql)');
  return found;
}

describe('safe output: the escaping rules', () => {
  it('shows control characters escaped on one line, backslashes doubled so an escape is never ambiguous', () => {
    expect(shown('a\nb\r\tc\u001b[1m\u0007\u007f\u009b\u202e\\x1b')).toBe('a\\nb\\r\\tc\\x1b[1m\\x07\\x7f\\x9b\\u202e\\\\x1b');
    expect(shown('plain ünïcode, "quotes" and \'apostrophes\'')).toBe('plain ünïcode, "quotes" and \'apostrophes\'');
    expect(sqlComment(INJECTION)).toBe('-- innocent\\nDROP TABLE canary; -- ');
    expect(shownBlock('SELECT 1;\n\tSELECT E\'\\x1b\', \'\u001b\';')).toBe('SELECT 1;\n\tSELECT E\'\\x1b\', \'\\x1b\';');
    expect(hasControl(ESCAPES)).toBe(true);
  });

  it('keeps JSON exact while no raw control character reaches the terminal', () => {
    const json = safeJson(JSON.stringify({ label: ESCAPES }));
    expect(json).not.toMatch(RAW_CONTROL);
    expect(JSON.parse(json).label).toBe(ESCAPES);
  });

  it('writes a literal with control characters as an E\'\' string the server reads back exactly', async () => {
    const { testServer } = await import('./helpers/db.js');
    const sql = lit(`${ESCAPES}'\\${INJECTION}`);
    expect(sql).not.toMatch(RAW_CONTROL);
    expect(sql).not.toContain('\n');
    const back = await withClient({ ...testServer().config }, (c) => c.query<{ v: string }>(`SELECT ${sql} AS v`));
    expect(back.rows[0]!.v).toBe(`${ESCAPES}'\\${INJECTION}`);
  });

  it('every screen takes Text from the escaping wrapper, never from ink directly', () => {
    const dir = new URL('../src/screens/', import.meta.url);
    const offenders = readdirSync(dir)
      .filter((f) => f.endsWith('.tsx') && f !== 'Text.tsx')
      .filter((f) => /import\s*\{[^}]*\bText\b[^}]*\}\s*from\s*'ink'/.test(readFileSync(new URL(f, dir), 'utf8')));
    expect(offenders).toEqual([]);
  });
});

describe('safe output: hostile labels on a real database', () => {
  let fx: DatabaseFixture;
  let url: string;
  const labels: string[] = [];

  beforeAll(async () => {
    fx = await demoDatabase({ rows: 3000, programs: 4, prefix: 'pw_test_safe' });
    await dropDemoForeignKeysIn(fx.admin);
    url = fx.db.url;
    const ids = (await fx.admin.query<{ id: string }>(`SELECT program_id::text AS id FROM public.pilot_programs ORDER BY created_at`)).rows.map((r) => r.id);
    for (const [i, label] of [INJECTION, ESCAPES, `${ESCAPES}\n${INJECTION}`].entries()) {
      await fx.admin.query(`UPDATE public.pilot_programs SET name = $1 WHERE program_id = $2`, [label, ids[i]]);
      labels.push(label);
    }
  });
  afterAll(async () => fx?.close());

  it('plan: a label never ends its comment; the reviewed script run with psql leaves the canary table alone', async () => {
    // a database of its own: psql runs the whole script in it
    const own = await demoDatabase({ rows: 500, programs: 2, prefix: 'pw_test_safe_psql' });
    const dir = mkdtempSync(join(tmpdir(), 'pw-plan-'));
    try {
      await own.admin.query('CREATE TABLE public.canary (x int)');
      await own.admin.query(`UPDATE public.pilot_programs SET name = $1`, [INJECTION]);
      const r = await runCli(['plan', '--url', own.db.url]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('for innocent\\nDROP TABLE canary; -- ');
      // every line holding the label's text is a comment
      const lines = r.stdout.split('\n').filter((l) => l.includes('DROP TABLE canary'));
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) expect(line.startsWith('--')).toBe(true);
      const file = join(dir, 'plan.sql');
      // the last statement shows that psql went through the whole script
      writeFileSync(file, `${r.stdout}\nCREATE TABLE public.script_ran_to_the_end ();\n`);
      // as a DBA would run it after review: no ON_ERROR_STOP, so every statement of the script is tried
      await execFileAsync(psqlBinary(), ['-X', '-q', '-d', own.db.url, '-f', file], { env: { ...process.env, PGCONNECT_TIMEOUT: '10' } });
      const q = await own.admin.query(`SELECT to_regclass('public.canary') IS NOT NULL AS canary, to_regclass('public.script_ran_to_the_end') IS NOT NULL AS ran`);
      expect(q.rows[0]).toEqual({ canary: true, ran: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await own.close();
    }
  });

  const commands: Array<{ args: string[]; shows: boolean }> = [
    { args: ['check'], shows: false },
    { args: ['plan'], shows: true },
    { args: ['create', '--yes'], shows: true },
    { args: ['verify'], shows: false },
    { args: ['test-insert', '--yes', '--rows', '20'], shows: false },
    { args: ['migrate', '--yes', '--mode', 'all'], shows: true },
    { args: ['verify', '--data'], shows: true },
    { args: ['status'], shows: false },
    { args: ['monitor'], shows: true },
  ];

  it('no headless command prints a raw control character, human or --json; the labels are shown escaped', async () => {
    for (const { args, shows } of commands) {
      // the json run first: create and migrate change the database, the human run then re-runs them (idempotent)
      const json = await runCli([...args, '--json', '--url', url]);
      expect(json.stdout, `${args.join(' ')} --json`).not.toMatch(RAW_CONTROL);
      expect(json.stderr, `${args.join(' ')} --json`).not.toMatch(RAW_CONTROL);
      expect(resultOf(json), `${args.join(' ')} --json: ${json.stdout.slice(-800)}`).toMatchObject({ ok: true });
      // the JSON reader gets the label exactly
      if (shows) expect(JSON.stringify(json.events).includes('red\u009b1m\u202eevil'), args.join(' ')).toBe(true);
      const human = await runCli([...args, '--url', url]);
      expect(human.stdout, args.join(' ')).not.toMatch(RAW_CONTROL);
      expect(human.stderr, args.join(' ')).not.toMatch(RAW_CONTROL);
      expect(human.code, `${args.join(' ')}: ${human.stdout}${human.stderr}`).toBe(0);
      if (shows) expect(human.stdout + human.stderr, args.join(' ')).toContain('\\x1b[2J\\x1b]0;pwned\\x07\\x1b[31mred\\x9b1m\\u202eevil\\r');
    }
  });

  it('the app shows the labels escaped: no frame holds a raw control character', async () => {
    const app = await renderApp(fx, { initialStep: 'monitor' });
    try {
      const monitor = await app.waitFor('pwned', 60_000);
      expect(monitor).toContain('\\x1b]0;pwned\\x07');
      // wide enough for the partition's comment line with the label
      await app.resize(240, 40);
      await app.press('2', 's');
      // the SQL is planned from the database: wait for it, not only for the panel
      await app.waitFor(/SQL \(s hides it; [1-9]\d* lines\)/);
      let sql = app.frame();
      for (let i = 0; i < 40 && !sql.includes('for innocent\\nDROP TABLE canary; -- '); i++) {
        await app.press(KEY.pageDown);
        sql = app.frame();
      }
      expect(sql).toContain('for innocent\\nDROP TABLE canary; -- ');
      expect(sql).not.toMatch(RAW_CONTROL);
      // migrate again (nothing left to copy): its progress lines carry the labels
      await app.press('s', '5');
      await app.waitFor('5. Migrate');
      await app.press(KEY.enter);
      await app.waitFor('Press y to go ahead');
      await app.press('y');
      const migrate = await app.waitFor('pwned', 60_000);
      expect(migrate).toContain('\\x1b[2J\\x1b]0;pwned\\x07');
      await app.press(KEY.esc);
      for (const f of app.frames()) expect(f).not.toMatch(RAW_CONTROL);
      expect(app.frames().length).toBeGreaterThan(3);
    } finally {
      await app.close();
    }
  });
});
