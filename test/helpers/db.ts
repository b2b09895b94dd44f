/**
 * Per-test databases on the run's shared server (see test/setup/globalSetup.ts).
 * Every test creates its own database and drops it, so files can run in parallel.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import type { TestServerInfo } from '../setup/globalSetup.js';

export function testServer(): TestServerInfo {
  return inject('partwiseTestServer');
}

export interface TestDatabase {
  config: pg.ClientConfig;
  /** postgres:// URL (password percent-encoded), e.g. for spawning the CLI */
  url: string;
  name: string;
  /** Drops the database WITH (FORCE); safe to call twice. */
  drop(): Promise<void>;
}

export async function createTestDatabase(prefix = 'pw_test'): Promise<TestDatabase> {
  const admin: pg.ClientConfig = { ...testServer().config };
  const clean = prefix.toLowerCase().replace(/[^a-z0-9_]+/g, '_').replace(/^_+|_+$/g, '');
  // A common prefix makes leftovers from a crashed run easy to find.
  const base = clean.startsWith('pw_test') ? clean : `pw_test_${clean}`;
  const name = `${base.slice(0, 40)}_${randomBytes(6).toString('hex')}`;
  await withClient(admin, async (client) => {
    for (let attempt = 1; ; attempt++) {
      try {
        await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
        return;
      } catch (err) {
        // 55006: template1 briefly busy because another worker is creating a database.
        if ((err as { code?: string }).code !== '55006' || attempt >= 10) throw err;
        await new Promise((r) => setTimeout(r, 200 * attempt));
      }
    }
  });
  const config: pg.ClientConfig = { ...admin, database: name };
  let dropped: Promise<void> | undefined;
  return {
    config,
    url: configToUrl(config),
    name,
    drop: () =>
      (dropped ??= withClient(admin, async (client) => {
        await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
      })),
  };
}

export async function withClient<T>(config: pg.ClientConfig, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(config);
  // Query errors arrive through the promises; this only stops a server-side
  // disconnect of an idle client from crashing the worker.
  client.on('error', () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

export function configToUrl(config: pg.ClientConfig): string {
  const enc = encodeURIComponent;
  const host = config.host ?? 'localhost';
  const socket = host.startsWith('/');
  const hostPart = socket ? '' : host.includes(':') ? `[${host}]` : host;
  const auth = `${enc(config.user ?? '')}${typeof config.password === 'string' && config.password ? `:${enc(config.password)}` : ''}`;
  const params = new URLSearchParams();
  if (socket) params.set('host', host);
  if (config.ssl) params.set('sslmode', typeof config.ssl === 'object' && config.ssl.rejectUnauthorized === false ? 'require' : 'verify-full');
  const query = params.size ? `?${params.toString()}` : '';
  return `postgres://${auth}@${hostPart}:${config.port ?? 5432}/${enc(config.database ?? '')}${query}`;
}
