import { readFileSync } from 'node:fs';
import pg from 'pg';
import { resolveConfig, type ConfigInput } from '../../src/config/config.js';
import { openSession } from '../../src/db/session.js';
import type { EngineEvent } from '../../src/events.js';
import type { StepContext } from '../../src/steps/context.js';

/** A StepContext on a real session, collecting the events the engine emits. */
export async function engineContext(config: pg.ClientConfig, input: ConfigInput = {}, retry = { lockTimeoutMs: 500, attempts: 3, baseDelayMs: 50, maxDelayMs: 200 }) {
  const client = await openSession(config);
  const events: EngineEvent[] = [];
  const ctx: StepContext = { client, connection: config, cfg: resolveConfig(input), emit: (e) => events.push(e), retry, poolerProblem: null };
  return { ctx, events, close: () => client.end() };
}

export function fixture(name: string): string {
  return readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8');
}

/** Everything in the database's catalog that a step could change: relations, schemas, triggers, policies, ACLs. */
export async function catalogFingerprint(client: pg.ClientBase): Promise<string> {
  const r = await client.query(`
    SELECT string_agg(x, E'\\n' ORDER BY x) AS f FROM (
      SELECT 'rel ' || n.nspname || '.' || c.relname || ' ' || c.relkind::text || ' ' || COALESCE(c.relacl::text, '') || ' ' || c.relrowsecurity AS x
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
      UNION ALL SELECT 'nsp ' || nspname FROM pg_namespace
      UNION ALL SELECT 'trg ' || tgrelid::regclass::text || ' ' || tgname FROM pg_trigger WHERE NOT tgisinternal
      UNION ALL SELECT 'pol ' || polrelid::regclass::text || ' ' || polname FROM pg_policy
      UNION ALL SELECT 'con ' || conrelid::regclass::text || ' ' || conname FROM pg_constraint WHERE connamespace <> 'pg_catalog'::regnamespace
    ) s`);
  return r.rows[0].f as string;
}
