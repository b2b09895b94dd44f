/**
 * check's advice for migrate --workers (src/steps/checkWorkers.ts): the count from the server's CPUs (where the role
 * may read them), max_worker_processes and max_connections; a warning when more workers are configured than cores.
 */
import { cpus } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCheck } from '../src/steps/check.js';
import { readWorkerFacts, workerAdvice, type WorkerFacts } from '../src/steps/checkWorkers.js';
import type { CheckItem } from '../src/events.js';
import { moveFixture, type MoveFixture } from './helpers/moveSetup.js';
import { testServer } from './helpers/db.js';

const facts = (over: Partial<WorkerFacts> = {}): WorkerFacts => ({ cpus: 4, cpuSource: '/proc/cpuinfo', maxWorkerProcesses: 8, maxConnections: 100, connectionsTaken: 10, ...over });

describe('workerAdvice (pure)', () => {
  it('suggests the smallest of the CPUs, max_worker_processes and the connections left', () => {
    expect(workerAdvice(facts(), 1).suggested).toBe(4);
    expect(workerAdvice(facts({ maxWorkerProcesses: 2 }), 1).suggested).toBe(2);
    // 20 connections, 10 taken, 3 of partwise's own, 5 kept for the application: 2 left
    expect(workerAdvice(facts({ maxConnections: 20 }), 1).suggested).toBe(2);
    expect(workerAdvice(facts({ maxConnections: 12 }), 1).suggested).toBe(1);
  });

  it('CPUs unknown: says so, and suggests from max_worker_processes and the connections', () => {
    const a = workerAdvice(facts({ cpus: null, cpuSource: null, maxWorkerProcesses: 3 }), 1);
    expect(a.suggested).toBe(3);
    expect(a.item).toMatchObject({ status: 'ok' });
    expect(a.item.reason).toContain('CPUs unknown');
  });

  it('warns when more workers are configured than the server has cores, with the count to use', () => {
    const a = workerAdvice(facts({ cpus: 2 }), 4);
    expect(a.item.status).toBe('warn');
    expect(a.item.reason).toMatch(/^4 workers configured, more than the server's 2 CPU\(s\)/);
    expect(a.item.todo).toBe('set workers (or migrate --workers) to 2 or fewer');
    expect(workerAdvice(facts({ cpus: 2 }), 2).item.status).toBe('ok');
    // unknown CPUs: nothing to compare with, no warning
    expect(workerAdvice(facts({ cpus: null }), 16).item.status).toBe('ok');
  });
});

describe('check on a real server', () => {
  let f: MoveFixture;
  const role = `pw_workers_${process.pid}`;
  beforeAll(async () => {
    f = await moveFixture('check_workers', { rows: 500, programs: 2 });
  });
  afterAll(async () => {
    await f?.client.query(`DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
    await f?.close();
  });

  it('reads the CPUs as superuser, the settings always; says unknown when the role may not read them', async () => {
    const own = await readWorkerFacts(f.client);
    expect(own.maxWorkerProcesses).toBe(Number((await f.client.query(`SHOW max_worker_processes`)).rows[0].max_worker_processes));
    expect(own.maxConnections).toBe(Number((await f.client.query(`SHOW max_connections`)).rows[0].max_connections));
    expect(own.connectionsTaken).toBeGreaterThan(0);
    // both test servers run on this machine as superuser: the count is this machine's (or its cgroup's, smaller)
    if (testServer().source === 'embedded' || /127\.0\.0\.1|localhost/.test(process.env.TEST_DATABASE_URL ?? '')) {
      expect(own.cpus).not.toBeNull();
      expect(own.cpus!).toBeLessThanOrEqual(cpus().length);
    }
    await f.client.query(`CREATE ROLE ${role} NOLOGIN`);
    await f.client.query(`SET ROLE ${role}`);
    try {
      const limited = await readWorkerFacts(f.client);
      expect(limited.cpus).toBeNull();
      expect(limited.maxConnections).toBe(own.maxConnections);
    } finally {
      await f.client.query(`RESET ROLE`);
    }
  });

  it('check lists the suggestion, and warns when the config asks for more workers than cores', async () => {
    const items = () => f.events.filter((e): e is { type: 'check'; item: CheckItem } => e.type === 'check').map((e) => e.item);
    const cores = (await readWorkerFacts(f.client)).cpus;
    await runCheck(f.ctx());
    const ok = items().find((i) => i.id === 'copy-workers')!;
    expect(ok.status).toBe('ok');
    expect(ok.reason).toMatch(/^migrate --workers \d+ suggested: /);
    f.events.length = 0;
    const many = f.ctx();
    await runCheck({ ...many, cfg: { ...many.cfg, workers: (cores ?? 1) + 1 } });
    const warned = items().find((i) => i.id === 'copy-workers')!;
    if (cores === null) expect(warned.status).toBe('ok');
    else expect(warned).toMatchObject({ status: 'warn', todo: expect.stringMatching(/^set workers \(or migrate --workers\) to \d+ or fewer$/) });
  });
});
