/**
 * The hazard tests' steps (issue 12): the demo created, migrated and verified under a writer; a swap that must refuse
 * with nothing changed; the repair and a swap whose result equals the original row for row.
 */
import { expect } from 'vitest';
import pg from 'pg';
import { takeSnapshot } from '../../src/catalog/snapshot.js';
import { replayBatch } from '../../src/move/capture.js';
import { runMigrate } from '../../src/steps/migrate.js';
import { runSwap } from '../../src/steps/swap.js';
import { runVerifyData } from '../../src/steps/verifyData.js';
import { catalogFingerprint } from './engine.js';
import { moveFixture, startWriter, type MoveFixture, type Writer } from './moveSetup.js';
import { tableChecksum } from './swapScenario.js';

export const S = 'public.petri_observations';

export interface Running {
  f: MoveFixture;
  writer: Writer;
}

/** The demo, created, migrated and verified while the writer writes. */
export async function verifiedUnderWriter(prefix: string, beforeCreate?: (c: pg.Client) => Promise<void>): Promise<Running> {
  const f = await moveFixture(prefix, { rows: 3000, programs: 3, beforeCreate });
  const writer = await startWriter(f.db.config);
  const migrated = await runMigrate(f.ctx(), { mode: 'all', batchSize: 500 });
  expect(migrated.exitCode, migrated.summary).toBe(0);
  const verified = await runVerifyData(f.ctx());
  expect(verified.exitCode, verified.summary).toBe(0);
  return { f, writer };
}

/** The swap refuses with exit 3, names the problem and the repair, and changes nothing in the catalog. */
export async function expectRefused(f: MoveFixture, problem: RegExp): Promise<string> {
  const before = await catalogFingerprint(f.client);
  const r = await runSwap(f.ctx());
  expect(r.exitCode, r.summary).toBe(3);
  expect(r.summary).toMatch(problem);
  expect(r.summary).toMatch(/nothing (was|has) changed/);
  expect(await catalogFingerprint(f.client)).toBe(before);
  return r.summary;
}

/** The repair, then the swap; the writer stops without an error and the swapped table equals the original. */
export async function repairAndSwap({ f, writer }: Running): Promise<void> {
  const migrated = await runMigrate(f.ctx(), { mode: 'all', batchSize: 500 });
  expect(migrated.exitCode, migrated.summary).toBe(0);
  const verified = await runVerifyData(f.ctx());
  expect(verified.exitCode, verified.summary).toBe(0);
  const swapped = await runSwap(f.ctx());
  expect(swapped.exitCode, swapped.summary).toBe(0);
  await expectEqualAfterWriter({ f, writer });
}

export async function expectEqualAfterWriter({ f, writer }: Running): Promise<void> {
  const w = await writer.stop();
  expect(w.errors).toEqual([]);
  expect(w.ops).toBeGreaterThan(0);
  const snap = await takeSnapshot(f.client, f.cfg);
  while ((await replayBatch(f.client, snap, f.cfg, 'reverse', 10_000)) > 0);
  expect((await f.client.query(`SELECT relkind::text AS k FROM pg_class WHERE oid = '${S}'::regclass`)).rows[0].k).toBe('p');
  expect(await tableChecksum(f.client, S)).toEqual(await tableChecksum(f.client, `${S}_old`));
}

