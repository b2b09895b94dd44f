/**
 * The table switch that swap and rollback share: one transaction, retried on lock timeouts (src/exec/retry.ts), that
 * 1. takes the capture lock of the direction whose log it applies (no replay or copy batch runs beside it),
 * 2. locks the table the application does not use first (autovacuum may be working on it: waiting for that while
 *    holding the live table would hold every application write),
 * 3. locks the live table SHARE UPDATE EXCLUSIVE: no ALTER TABLE, CREATE INDEX, trigger or policy change can reach
 *    it any more, while the application's reads and writes go on,
 * 4. runs the gate (the switch's last checks: the structure and capture's triggers can no longer change),
 * 5. locks the live table EXCLUSIVE (writes wait, reads go on) and applies the last captured changes (a change replay
 *    cannot apply stops it here),
 * 6. takes ACCESS EXCLUSIVE on the live table and runs the switch's statements (plain SQL from the planner),
 * 7. records the result in the journal, in the same transaction.
 * The application's writes wait only from 5 on: the gate's catalog reads do not hold them.
 */
import type pg from 'pg';
import type { Snapshot } from '../catalog/types.js';
import type { Config } from '../config/config.js';
import { lockedOpening, lockedTransaction, type Exec, type RetryPolicy } from '../exec/retry.js';
import { captureLockStatement, lockCapture, replayInTransaction, replayStatements, type Direction } from '../move/capture.js';
import type { ScriptStatement } from '../plan/script.js';
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

/** The switch's SQL as it runs: the locks before the gate, the lock before the replay, then the upgrade and the statements. */
export function switchScript(sw: TableSwitch): { beforeGate: string[]; beforeReplay: string[]; afterReplay: string[] } {
  return {
    beforeGate: [`LOCK TABLE ${sw.idle} IN ACCESS EXCLUSIVE MODE`, `LOCK TABLE ${sw.live} IN SHARE UPDATE EXCLUSIVE MODE`],
    beforeReplay: [`LOCK TABLE ${sw.live} IN EXCLUSIVE MODE`],
    afterReplay: [`LOCK TABLE ${sw.live} IN ACCESS EXCLUSIVE MODE`, ...sw.statements],
  };
}

/**
 * Everything switchTables sends on its first attempt (a lock timeout rolls it back and sends it again), for the
 * previews: the gate's catalog reads and the journal's record are not statements of the switch and are not listed.
 */
export function switchStatements(sw: TableSwitch, snap: Snapshot, cfg: Config, policy: Pick<RetryPolicy, 'lockTimeoutMs'>): ScriptStatement[] {
  const script = switchScript(sw);
  return [
    ...lockedOpening(policy), captureLockStatement(cfg, sw.direction), ...script.beforeGate, ...script.beforeReplay,
    ...replayStatements(snap, cfg, sw.direction, { locked: true }), ...script.afterReplay, 'COMMIT',
  ];
}

export interface SwitchHooks {
  /** under the locks that freeze both tables' structure, before any change: throws to refuse (the transaction rolls back) */
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
    for (const s of script.beforeGate) await exec(s);
    await hooks.gate?.(client);
    for (const s of script.beforeReplay) await exec(s);
    replayed = await replayInTransaction(client, snap, cfg, sw.direction, undefined, { locked: true });
    for (const s of script.afterReplay) await exec(s);
    await hooks.record(replayed);
  });
  return { attempts, replayed };
}
