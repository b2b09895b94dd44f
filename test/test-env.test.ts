/**
 * The test environment is explicit (test/helpers/env.ts, test/setup/globalSetup.ts, test/setup/workerEnv.ts): the
 * developer's PARTWISE_EMBEDDED_DIR, PG* and DATABASE_URL reach neither the test workers nor the processes they
 * spawn, and every temporary file goes to the run's own directory.
 */
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { describe, expect, inject, it } from 'vitest';
import { cleanEnv, envPrefix, isLeakyEnvVar } from './helpers/env.js';
import { configToUrl, testServer } from './helpers/db.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const NESTED = 'PARTWISE_TEST_NESTED';
const BOGUS = {
  PARTWISE_EMBEDDED_DIR: '/nonexistent/partwise-bogus',
  DATABASE_URL: 'postgres://bogus:bogus@bogus.invalid:1/bogus',
  PGHOST: 'bogus.invalid',
  PGPORT: '1',
  PGPASSWORD: 'bogus',
  PGSSLMODE: 'require',
};

describe("the shell's connection variables", () => {
  it('are not in this worker, and temporary files go to the run directory', () => {
    expect(Object.keys(process.env).filter(isLeakyEnvVar)).toEqual([]);
    expect(tmpdir()).toBe(inject('partwiseRunTmp'));
  });

  it('are left out of a spawned process unless the test passes them', () => {
    const env = cleanEnv({ PGHOST: 'given', NO_COLOR: '1', TERM: undefined });
    expect(env.PGHOST).toBe('given');
    expect(env.NO_COLOR).toBe('1');
    expect('TERM' in env).toBe(false);
    expect(env.PATH).toBe(process.env.PATH);
    expect(envPrefix({ PARTWISE_EMBEDDED_DIR: "/tmp/it's" })).toMatch(/^env( -u \w+)+ PARTWISE_EMBEDDED_DIR='\/tmp\/it'\\''s'$/);
    expect(envPrefix()).toContain('-u DATABASE_URL');
    expect(envPrefix()).toContain('-u PARTWISE_EMBEDDED_DIR');
    expect(envPrefix()).toContain('-u PGHOST');
  });

  it.skipIf(Boolean(process.env[NESTED]))('a run started with bogus ones set stays green (a nested vitest run)', async () => {
    const env = cleanEnv({ ...BOGUS, [NESTED]: '1', TEST_DATABASE_URL: configToUrl({ ...testServer().config }) });
    for (const k of Object.keys(env)) if (k.startsWith('VITEST')) delete env[k];
    const args = ['node_modules/vitest/vitest.mjs', 'run', 'test/test-env.test.ts', 'test/embedded.test.ts', '-t', 'not in this worker|default data dir'];
    const run = await new Promise<{ code: number | null; out: string }>((resolve, reject) => {
      const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, out }));
    });
    expect(run.code, run.out).toBe(0);
    expect(run.out).toMatch(/2 passed/);
  });
});
