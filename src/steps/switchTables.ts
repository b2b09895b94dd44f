/**
 * The table switch that swap and rollback share: one transaction, retried on lock timeouts (src/exec/retry.ts), that
 * 1. takes the capture lock of the direction whose log it applies (no replay or copy batch runs beside it),
 * 2. locks the table the application does not use first (autovacuum may be working on it: waiting for that while
 *    holding the live table would hold every application write),
 * 3. locks the live table EXCLUSIVE (writes wait, reads go on) and applies the last captured changes,
 * 4. runs the gate (the switch's last checks, under the locks: nothing can change the tables any more),
 * 5. takes ACCESS EXCLUSIVE on the live table and runs the switch's statements (plain SQL from the planner),
 * 6. records the result in the journal, in the same transaction.
 */
import type pg from 'pg';
import type { Snapshot } from '../catalog/types.js';
import type { Config } from '../config/config.js';
import { lockedTransaction, type Exec } from '../exec/retry.js';
import { lockCapture, replayInTransaction, type Direction } from '../move/capture.js';
import type { StepContext } from './context.js';

export interface TableSwitch {
  /** whose change log is applied under the locks */
  direction: Direction;
  /** the table the application does not use (quoted, qualified): locked first */
  idle: string;
  /** the table the application uses (quoted, qualified) */
  live: string;
  /** the switch itself, in order */
  statements: string[];
  /** other relations the statements lock (their holders are reported when the switch waits) */
  alsoLocked: string[];
}

/** The switch's SQL around the replay, as it runs: the locks before it, then the upgrade and the statements. */
export function switchScript(sw: TableSwitch): { beforeReplay: string[]; afterGate: string[] } {
  return {
    beforeReplay: [`LOCK TABLE ${sw.idle} IN ACCESS EXCLUSIVE MODE`, `LOCK TABLE ${sw.live} IN EXCLUSIVE MODE`],
    afterGate: [`LOCK TABLE ${sw.live} IN ACCESS EXCLUSIVE MODE`, ...sw.statements],
  };
}

export interface SwitchHooks {
  /** under the locks, after the replay, before any change: throws to refuse (the transaction rolls back) */
  gate?: (client: pg.ClientBase) => Promise<void>;
  /** after the statements, in the same transaction: the journal */
  record: (replayed: number) => Promise<void>;
}

/** Runs the switch; how many attempts it took and how many log entries were applied under the locks. Throws TransactionFailed. */
export async function switchTables(ctx: StepContext, snap: Snapshot, cfg: Config, step: string, sw: TableSwitch, hooks: SwitchHooks): Promise<{ attempts: number; replayed: number }> {
  const { client } = ctx;
  const script = switchScript(sw);
  let replayed = 0;
  let attempts = 0;
  await lockedTransaction(client, { policy: ctx.retry, emit: ctx.emit, step, relations: [sw.live, sw.idle, ...sw.alsoLocked] }, async (exec: Exec, n) => {
    attempts = n;
    await lockCapture(client, cfg, sw.direction);
    for (const s of script.beforeReplay) await exec(s);
    replayed = await replayInTransaction(client, snap, cfg, sw.direction);
    await hooks.gate?.(client);
    for (const s of script.afterGate) await exec(s);
    await hooks.record(replayed);
  });
  return { attempts, replayed };
}
