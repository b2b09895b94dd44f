/**
 * The table switch that swap and rollback share: one transaction, retried on lock timeouts (src/exec/retry.ts), that
 * 1. takes the capture lock of the direction whose log it applies (no replay or copy batch runs beside it),
 * 2. locks the table the application does not use first (autovacuum may be working on it: waiting for that while
 *    holding the live table would hold every application write),
 * 3. bounds every lock wait from here on (see below) and locks the other tables the statements change (those whose
 *    foreign keys move), in the mode the statements need, before the live table (views are locked by their own
 *    statements: LOCK TABLE on a view would lock the live table too),
 * 4. locks the live table SHARE UPDATE EXCLUSIVE: no ALTER TABLE, CREATE INDEX, trigger or policy change can reach
 *    it any more, while the application's reads and writes go on,
 * 5. runs the gate (the switch's last checks: the structure and capture's triggers can no longer change),
 * 6. locks the live table EXCLUSIVE (writes wait, reads go on) and applies the last captured changes (a change replay
 *    cannot apply stops it here),
 * 7. takes ACCESS EXCLUSIVE on the live table and runs the switch's statements (plain SQL from the planner),
 * 8. records the result in the journal, in the same transaction.
 * The application's writes wait only from 6 on: the gate's catalog reads do not hold them.
 *
 * Deadlocks (docs/behaviours/deadlock-victim-is-the-first-waiter.md): an application transaction that holds one
 * relation the switch needs and waits for another the switch holds closes a cycle, and PostgreSQL ends the session
 * whose wait reaches deadlock_timeout first, the one that waited first: often the application's. So the switch
 * never waits for long while holding what the application may wait for: once the idle table is locked, each lock
 * wait is at most 3/8 of the server's deadlock_timeout, and no wait starts that could end later than 3/4 of it after
 * that first lock (the attempt is given up and retried instead). An application session that starts waiting for the
 * switch after that point reaches deadlock_timeout only after the switch has stopped waiting.
 */
import type pg from 'pg';
import type { Snapshot } from '../catalog/types.js';
import type { Config } from '../config/config.js';
import { lockedOpening, lockedTransaction, type Exec, type RetryPolicy } from '../exec/retry.js';
import { captureLockStatement, lockCapture, replayInTransaction, replayStatements, type Direction } from '../move/capture.js';
import type { ScriptStatement } from '../plan/script.js';
import type { LockInfo } from '../plan/types.js';
import { LOCK_NOT_AVAILABLE } from '../exec/errors.js';
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
  /** other relations the statements lock, in the mode they need: locked before the live table */
  alsoLocked: LockInfo[];
  /** the server's deadlock_timeout in ms (the snapshot's): the switch's lock waits stay below it */
  deadlockTimeoutMs: number;
}

const MODE_RANK: Record<LockInfo['mode'], number> = {
  'ACCESS SHARE': 0, 'ROW EXCLUSIVE': 1, 'SHARE UPDATE EXCLUSIVE': 2, 'SHARE': 3, 'SHARE ROW EXCLUSIVE': 4, 'ACCESS EXCLUSIVE': 5,
};

/** alsoLocked without the two tables, one entry per relation in the strongest mode asked for, in the plan's order. */
export function earlyLocks(sw: Pick<TableSwitch, 'idle' | 'live' | 'alsoLocked'>): LockInfo[] {
  const out: LockInfo[] = [];
  for (const l of sw.alsoLocked) {
    if (l.on === sw.idle || l.on === sw.live || l.byStatementOnly) continue;
    const i = out.findIndex((o) => o.on === l.on);
    if (i < 0) out.push(l);
    else if (MODE_RANK[l.mode] > MODE_RANK[out[i]!.mode]) out[i] = l;
  }
  return out;
}

/** Each lock wait after the idle table's, and the time from that lock within which every wait must have ended. */
export function switchWaits(sw: Pick<TableSwitch, 'deadlockTimeoutMs'>, policy: Pick<RetryPolicy, 'lockTimeoutMs'>): { waitMs: number; boundMs: number } {
  const dt = Math.max(1, sw.deadlockTimeoutMs);
  return { waitMs: Math.max(1, Math.min(policy.lockTimeoutMs, Math.floor((dt * 3) / 8))), boundMs: Math.max(2, Math.floor((dt * 3) / 4)) };
}

/** The switch's SQL as it runs: the locks before the gate, the lock before the replay, then the upgrade and the statements. */
export function switchScript(sw: TableSwitch, policy: Pick<RetryPolicy, 'lockTimeoutMs'>): { beforeGate: string[]; beforeReplay: string[]; afterReplay: string[] } {
  return {
    beforeGate: [
      `LOCK TABLE ${sw.idle} IN ACCESS EXCLUSIVE MODE`,
      `SET LOCAL lock_timeout = '${switchWaits(sw, policy).waitMs}ms'`,
      ...earlyLocks(sw).map((l) => `LOCK TABLE ${l.on} IN ${l.mode} MODE`),
      `LOCK TABLE ${sw.live} IN SHARE UPDATE EXCLUSIVE MODE`,
    ],
    beforeReplay: [`LOCK TABLE ${sw.live} IN EXCLUSIVE MODE`],
    afterReplay: [`LOCK TABLE ${sw.live} IN ACCESS EXCLUSIVE MODE`, ...sw.statements],
  };
}

/**
 * Everything switchTables sends on its first attempt (a lock timeout rolls it back and sends it again), for the
 * previews: the gate's catalog reads and the journal's record are not statements of the switch and are not listed.
 */
export function switchStatements(sw: TableSwitch, snap: Snapshot, cfg: Config, policy: Pick<RetryPolicy, 'lockTimeoutMs'>): ScriptStatement[] {
  const script = switchScript(sw, policy);
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
  const script = switchScript(sw, ctx.retry);
  const { waitMs, boundMs } = switchWaits(sw, ctx.retry);
  let replayed = 0;
  let attempts = 0;
  await lockedTransaction(client, { policy: ctx.retry, emit: ctx.emit, step, relations: [sw.live, sw.idle, ...earlyLocks(sw).map((l) => l.on)] }, async (exec: Exec, n) => {
    attempts = n;
    await lockCapture(client, cfg, sw.direction);
    const [idleLock, ...restBeforeGate] = script.beforeGate;
    await exec(idleLock!);
    const firstLockAt = performance.now();
    // a wait that could end after the bound is not started: the attempt rolls back and is retried (see the top)
    const withinBound = (what: string) => {
      const spent = Math.round(performance.now() - firstLockAt);
      if (spent + waitMs > boundMs) throw new SwitchOverBound(what, spent, boundMs, sw.deadlockTimeoutMs);
    };
    for (const s of restBeforeGate) await exec(s);
    await hooks.gate?.(client);
    withinBound(script.beforeReplay[0]!);
    for (const s of script.beforeReplay) await exec(s);
    replayed = await replayInTransaction(client, snap, cfg, sw.direction, undefined, { locked: true });
    withinBound(script.afterReplay[0]!);
    for (const s of script.afterReplay) await exec(s);
    await hooks.record(replayed);
  });
  return { attempts, replayed };
}

/** A lock wait not started because it could end after the switch's bound: retried like a lock timeout (55P03). */
export class SwitchOverBound extends Error {
  readonly code = LOCK_NOT_AVAILABLE;
  constructor(readonly statement: string, spentMs: number, boundMs: number, deadlockTimeoutMs: number) {
    super(`the switch had held its first lock ${spentMs}ms; waiting for the next one (${statement}) could have gone past ${boundMs}ms, ` +
      `3/4 of deadlock_timeout (${deadlockTimeoutMs}ms), where a waiting application session would be the one PostgreSQL ends: given up, to be retried`);
  }
}
