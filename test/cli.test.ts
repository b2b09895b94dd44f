import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, testServer, withClient, type TestDatabase } from './helpers/db.js';
import { catalogFingerprint, fixture } from './helpers/engine.js';
import { resultOf, runCli } from './helpers/cli.js';
import { configFromUrl, redact, resolveConnection } from '../src/db/connect.js';
import { detectTransactionPooler, openSession } from '../src/db/session.js';

const EVENTS = ['--table', 'events', '--key', 'tenant_id', '--lookup', 'tenants', '--lookup-key', 'tenant_id', '--partition-name', 'events_t{key}', '--default-partition', 'events_default'];

describe('the partwise command', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('pw_test_cli');
    await withClient(db.config, (c) => c.query(fixture('bigint-key.sql')));
  });
  afterAll(async () => db?.drop());

  const fingerprint = () => withClient(db.config, (c) => catalogFingerprint(c));

  it('prints help and exits 0; unknown commands and flags exit 2', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: partwise/);
    expect((await runCli(['frobnicate'])).code).toBe(2);
    const bad = await runCli(['check', '--nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--nope/);
  });

  it('an unknown flag or command exits 2 with a plain message and the nearest valid one for that command', async () => {
    const tabel = await runCli(['migrate', '--tabel', 'x']);
    expect(tabel.code).toBe(2);
    expect(tabel.stderr).toMatch(/^partwise: unknown option --tabel for migrate; did you mean --table\? \(see partwise migrate --help\)$/m);
    expect(tabel.stderr).not.toMatch(/positional|To specify/);
    // the nearest among the command's own flags: --mode is migrate's, so migrate suggests it and check does not
    expect((await runCli(['migrate', '--mdoe', 'all'])).stderr).toMatch(/did you mean --mode\?/);
    const checkMode = await runCli(['check', '--mdoe', 'all']);
    expect(checkMode.code).toBe(2);
    expect(checkMode.stderr).toMatch(/unknown option --mdoe for check \(see partwise check --help\)/);
    expect(checkMode.stderr).not.toMatch(/did you mean/);
    const migrat = await runCli(['migrat']);
    expect(migrat.code).toBe(2);
    expect(migrat.stderr).toMatch(/unknown command: migrat; did you mean migrate\?/);
    expect((await runCli(['monitr', '--table', 'x'])).stderr).toMatch(/did you mean monitor\?/);
    const missing = await runCli(['migrate', '--table']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--table takes a value/);
    const given = await runCli(['migrate', '--yes=1']);
    expect(given.code).toBe(2);
    expect(given.stderr).toMatch(/--yes takes no value/);
  });

  it.each([
    ['no "://"', 'postgres//bad', /--url is not a valid connection URL: it must begin with postgres:\/\/ or postgresql:\/\/ \(it begins with "postgres\/\/"\)/],
    ['no "://" and a password', 'postgres//ann:s3cr3t-pw@db.example.com/app', /it must begin with postgres:\/\//],
    ['another scheme and a password', 'mysql://ann:s3cr3t-pw@db.example.com/app', /it begins with "mysql:\/\/"/],
    ['a port that is not a number, and a password', 'postgres://ann:s3cr3t-pw@db.example.com:54x2/app', /the port is not a number from 1 to 65535/],
    ['a port out of range, and a password', 'postgres://ann:s3cr3t-pw@db.example.com:99999/app', /the port is not a number from 1 to 65535/],
  ])('a malformed URL (%s) is a usage error that says what is wrong, never the password', async (_what, url, problem) => {
    for (const args of [['check', '--url', url], ['check', '--json', '--url', url], ['--url', url]]) {
      const r = await runCli(args);
      expect(r.code).toBe(2);
      expect(r.stderr + String(resultOf(r)?.summary ?? '')).toMatch(problem);
      expect(r.stdout + r.stderr).not.toMatch(/s3cr3t/);
      expect(r.stdout + r.stderr).not.toMatch(/could not connect|ENOTFOUND/);
    }
    const env = await runCli(['status'], { DATABASE_URL: url });
    expect(env.code).toBe(2);
    expect(env.stderr).toMatch(/DATABASE_URL is not a valid connection URL/);
    expect(env.stderr).not.toMatch(/s3cr3t/);
  });

  it('refuses to start the checklist app without a terminal, with a clear message', async () => {
    const r = await runCli([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/interactive terminal/);
    expect(r.stderr).toMatch(/partwise check/);
  });

  it('check --json prints NDJSON events and a final result; exit 0 when all prerequisites hold', async () => {
    const r = await runCli(['check', '--json', '--url', db.url, ...EVENTS]);
    expect(r.code).toBe(0);
    expect(r.events.some((e) => e.type === 'check')).toBe(true);
    expect(r.events.at(-1)).toMatchObject({ type: 'result', command: 'check', ok: true, exitCode: 0 });
  });

  it('plan prints a clean SQL script on stdout with a heading per step', async () => {
    const r = await runCli(['plan', '--url', db.url, ...EVENTS]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^-- /);
    expect(r.stdout).toMatch(/-- Create public\.events_partitioned partitioned by LIST \(tenant_id\)\n--   step: create-table\n--   lock: ACCESS EXCLUSIVE/);
    expect(r.stdout).not.toMatch(/connected to/);
    expect(r.stderr).toMatch(/connected to/);
  });

  it('create needs --yes without a terminal and changes nothing without it', async () => {
    const before = await fingerprint();
    const r = await runCli(['create', '--url', db.url, ...EVENTS]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--yes/);
    expect(await fingerprint()).toBe(before);
  });

  it.each([
    ['an unknown table', ['--table', 'no_such_table'], /table public\.no_such_table does not exist/],
    ['a missing key column', [...EVENTS, '--key', 'no_such_column'], /column no_such_column does not exist/],
    ['a key type that does not match the lookup table', [...EVENTS, '--lookup-key', 'name'], /key types differ: events\.tenant_id is bigint, tenants\.name is text/],
  ])('%s: exit 3 with a clear message and no change', async (_what, args, message) => {
    const before = await fingerprint();
    const check = await runCli(['check', '--url', db.url, ...args]);
    expect(check.code).toBe(3);
    expect(check.stdout).toMatch(message);
    const create = await runCli(['create', '--yes', '--url', db.url, ...args]);
    expect(create.code).toBe(3);
    expect(create.stdout).toMatch(/nothing was changed/);
    expect(await fingerprint()).toBe(before);
  });

  it('a name over 63 bytes is a usage error (exit 2) before anything connects', async () => {
    const r = await runCli(['create', '--yes', '--url', db.url, ...EVENTS, '--new-table', 'n'.repeat(64)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--new-table .* 64 bytes; PostgreSQL identifiers are at most 63 bytes/);
  });

  it('a malformed config file names the field and the problem (exit 2)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-config-'));
    try {
      const bad = join(dir, 'partwise.config.json');
      writeFileSync(bad, JSON.stringify({ table: 'events', lockTimeoutMs: 'soon' }));
      const r = await runCli(['check', '--config', bad, '--url', db.url]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/field "lockTimeoutMs"/);
      writeFileSync(bad, '{ not json');
      const r2 = await runCli(['check', '--config', bad, '--url', db.url]);
      expect(r2.code).toBe(2);
      expect(r2.stderr).toMatch(/not valid JSON/);
      // a valid file is used: its table is checked
      writeFileSync(bad, JSON.stringify({ table: 'events', key: 'tenant_id', lookup: 'tenants', lookupKey: 'tenant_id' }));
      const ok = await runCli(['check', '--config', bad, '--url', db.url]);
      expect(ok.stdout).toMatch(/Source table: public\.events/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an unreachable server: exit 1, the reason, and never the password', async () => {
    const r = await runCli(['check', '--json', '--url', 'postgres://someone:S3cretPassw0rd@127.0.0.1:1/nowhere']);
    expect(r.code).toBe(1);
    expect(resultOf(r)!.summary).toMatch(/could not connect to 127\.0\.0\.1:1.*nothing was changed/);
    expect(r.stdout + r.stderr).not.toContain('S3cretPassw0rd');
  });

  it.runIf(testServer().source === 'embedded')('a wrong password: exit 1, the server says so, the password is not printed', async () => {
    const url = db.url.replace(/:\/\/([^:]+):[^@]*@/, '://$1:Wr0ngPassw0rdXyz@');
    const r = await runCli(['check', '--url', url]);
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/password authentication failed/);
    expect(r.stdout + r.stderr).not.toContain('Wr0ngPassw0rdXyz');
  });

  it('connects through DATABASE_URL and through the libpq environment', async () => {
    const viaUrl = await runCli(['status', '--json'], { DATABASE_URL: db.url });
    expect(viaUrl.code).toBe(0);
    expect(viaUrl.events[0]).toMatchObject({ type: 'connected', embedded: false });
    const c = db.config;
    const viaEnv = await runCli(['status', '--json'], {
      PGHOST: String(c.host), PGPORT: String(c.port), PGUSER: String(c.user), PGDATABASE: String(c.database),
      PGPASSWORD: typeof c.password === 'string' ? c.password : undefined,
    });
    expect(viaEnv.code).toBe(0);
    expect(viaEnv.events[0]).toMatchObject({ type: 'connected', target: `${c.host}:${c.port}/${c.database} as ${c.user}` });
    expect(JSON.stringify(viaEnv.events)).not.toContain(String(c.password || 'no-password-set'));
  });

  it.runIf(testServer().source === 'embedded')('reads the password from a pgpass file when none is given', async () => {
    const c = db.config;
    const dir = mkdtempSync(join(tmpdir(), 'pw-pgpass-'));
    try {
      const passfile = join(dir, 'pgpass');
      writeFileSync(passfile, `${c.host}:${c.port}:${c.database}:${c.user}:${String(c.password)}\n`, { mode: 0o600 });
      const env = { PGHOST: String(c.host), PGPORT: String(c.port), PGUSER: String(c.user), PGDATABASE: String(c.database) };
      const withFile = await runCli(['status', '--json'], { ...env, PGPASSFILE: passfile });
      expect(withFile.code).toBe(0);
      const without = await runCli(['status', '--json'], { ...env, PGPASSFILE: join(dir, 'missing') });
      expect(without.code).toBe(1);
    } finally {
      // a password file
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('status reads the journal that create wrote', async () => {
    const created = await runCli(['create', '--yes', '--json', '--url', db.url, ...EVENTS]);
    expect(created.code).toBe(0);
    const status = await runCli(['status', '--json', '--url', db.url, ...EVENTS]);
    expect(resultOf(status)).toMatchObject({ ok: true, data: { phase: 'created', steps: { create: { state: 'done' }, verify: { state: 'pending' } }, next: { command: 'verify' } } });
  });
});

describe('connections', () => {
  it('takes --url over DATABASE_URL over the libpq environment, else the embedded server', () => {
    const env = { DATABASE_URL: 'postgres://a@h1/d1', PGHOST: 'h2' };
    expect(resolveConnection('postgres://b@h0/d0', env)).toMatchObject({ source: 'url-flag', config: { host: 'h0' } });
    expect(resolveConnection(undefined, env)).toMatchObject({ source: 'DATABASE_URL', config: { host: 'h1' } });
    expect(resolveConnection(undefined, { PGHOST: 'h2', PGPORT: '6000' })).toMatchObject({ source: 'libpq-env', config: { host: 'h2', port: 6000 } });
    expect(resolveConnection(undefined, {})).toMatchObject({ source: 'embedded' });
  });

  it('honours sslmode as libpq does', () => {
    expect(configFromUrl('postgres://u@h/d?sslmode=require').ssl).toEqual({ rejectUnauthorized: false });
    expect(configFromUrl('postgres://u@h/d?sslmode=disable').ssl).toBe(false);
    expect(configFromUrl('postgres://u@h/d?sslmode=verify-full').ssl).toMatchObject({ rejectUnauthorized: true });
    expect(() => configFromUrl('postgres://u@h/d?sslmode=sometimes')).toThrow(/unknown sslmode/);
  });

  it('redacts passwords from any text', () => {
    expect(redact('failed for postgres://bob:hunter2@db:5432/x')).toBe('failed for postgres://bob:***@db:5432/x');
    expect(redact('pw is hunter2', { password: 'hunter2' })).toBe('pw is ***');
  });

  it('refuses Supabase transaction-mode pooler port; a direct session is not taken for a pooler', async () => {
    const db = await createTestDatabase('pw_test_pooler');
    try {
      const client = await openSession(db.config);
      expect(await detectTransactionPooler(client, { ...db.config, port: 6543 })).toMatch(/transaction-mode pooler/);
      expect(await detectTransactionPooler(client, db.config)).toBeNull();
      const settings = await client.query(`SELECT current_setting('application_name') AS app, current_setting('statement_timeout') AS st`);
      expect(settings.rows[0]).toEqual({ app: 'partwise', st: '1min' });
      await client.end();
    } finally {
      await db.drop();
    }
  });
});
