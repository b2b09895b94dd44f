/**
 * migrate --mode all builds the copy's secondary indexes after the bulk copy (src/plan/deferIndexes.ts). A stop asked
 * for while they are built (Ctrl-C, SIGTERM, SIGHUP: the run's signal) lets the build in progress finish and starts no
 * other; the next migrate builds the rest, and the copy ends with the indexes create made.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigrate } from '../src/steps/migrate.js';
import { runVerifyData } from '../src/steps/verifyData.js';
import { moveFixture, type MoveFixture } from './helpers/moveSetup.js';

describe('a stop while the deferred indexes are built', () => {
  let f: MoveFixture;
  beforeAll(async () => {
    f = await moveFixture('index_build_stop', { rows: 3000, programs: 3 });
  });
  afterAll(async () => f?.close());

  const indexes = async () => (await f.client.query<{ name: string; def: string; unique: boolean }>(
    `SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS def, i.indisunique AS unique FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      WHERE i.indrelid = 'public.petri_observations_partitioned'::regclass ORDER BY 1`)).rows;

  it('finishes the build in progress, starts no other, exits interrupted; the next migrate builds the rest', async () => {
    const created = await indexes();
    const stop = new AbortController();
    const started: string[] = [];
    const r = await runMigrate(f.ctx(stop.signal, (e) => {
      if (e.type === 'step.start' && e.step.startsWith('build-index:')) {
        started.push(e.step);
        stop.abort();
      }
    }), { mode: 'all' });
    expect(r.exitCode, r.summary).toBe(130);
    expect(started.length).toBe(1);
    const after = await indexes();
    const deferred = created.filter((i) => !i.unique).length;
    expect(deferred).toBeGreaterThan(1);
    expect(after.length).toBe(created.length - deferred + 1);
    expect(after.map((i) => i.name)).toContain(started[0]!.slice('build-index:'.length));
    const again = await runMigrate(f.ctx(), { mode: 'all' });
    expect(again.exitCode, again.summary).toBe(0);
    expect(await indexes()).toEqual(created);
    const v = await runVerifyData(f.ctx());
    expect(v.exitCode, v.summary).toBe(0);
  });
});
