/**
 * The table switch that swap and rollback share: one transaction, retried on lock timeouts (src/exec/retry.ts), that
 * 1. takes the capture lock of the direction whose log it applies (no replay or copy batch runs beside it),
 * 2. locks the live table, the other tables the statements change (those whose foreign keys move) and the table the
 *    application does not use SHARE UPDATE EXCLUSIVE: no ALTER TABLE, CREATE INDEX, trigger or policy change can
 *    reach them any more, while the application's reads and writes go on (views are locked by their own statements:
 *    LOCK TABLE on a view would lock the live table too),
 * 3. runs the gate (the switch's last checks: the structure and capture's triggers can no longer change),
 * 4. locks the idle table ACCESS EXCLUSIVE and bounds every lock wait from here on (see below),
 * 5. locks the live table ACCESS EXCLUSIVE and applies the last captured changes (a change replay cannot apply stops
 *    it here),
 * 6. locks the other tables in the mode the statements need and runs the switch's statements (plain SQL from the
 *    planner),
 * 7. records the result in the journal, in the same transaction.
 * The application waits only from 5 on: the gate's reads hold nothing of it.
 *
 * Deadlocks (docs/behaviours/deadlock-victim-is-the-first-waiter.md): an application transaction that holds one
 * relation the switch needs and waits for another the switch holds closes a cycle, and PostgreSQL ends the session
 * whose wait reaches deadlock_timeout first, the one that waited first: often the application's. So the switch
 * never waits for long while holding what the application may wait for: once the idle table is locked (4), each lock
 * wait is at most 1/4 of the server's deadlock_timeout, no full wait starts that could end later than 5/8 of it after
 * that first lock (a short one of 1/16 instead, while that ends within 3/4; later the attempt is given up and
 * retried). An application session that waits for the switch started waiting after that first lock, so it reaches
 * deadlock_timeout only after the switch has stopped waiting.
 * Not covered by the bound (rare; a cycle there is broken by PostgreSQL as usual and the attempt retried): the
 * replay's own waits (the copy's foreign key checks on referenced rows), a second statement that takes a lock of its
 * own (materialized views are locked by their DROP), LOCK TABLE on a partitioned table (lock_timeout applies to each
 * partition's lock), and an application role or database whose deadlock_timeout is lower than partwise's session's.
 */
import type pg from 'pg';
import type { Snapshot } from '../catalog/types.js';
import type { Config } from '../config/config.js';
import { lockedOpening, lockedTransaction, type Exec, type RetryPolicy } from '../exec/retry.js';
import { captureLockStatement, lockCapture, replayInTransaction, replayStatements, type Direction } from '../move/capture.js';
import { only, type ScriptStatement } from '../plan/script.js';
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

/** alsoLocked without the two tables and the relations only their statements lock, one entry per relation in the strongest mode asked for, in the plan's order. */
export function otherLocks(sw: Pick<TableSwitch, 'idle' | 'live' | 'alsoLocked'>): LockInfo[] {
  const out: LockInfo[] = [];
  for (const l of sw.alsoLocked) {
    if (l.on === sw.idle || l.on === sw.live || l.byStatementOnly) continue;
    const i = out.findIndex((o) => o.on === l.on);
    if (i < 0) out.push(l);
    else if (MODE_RANK[l.mode] > MODE_RANK[out[i]!.mode]) out[i] = l;
  }
  return out;
}

/**
 * The switch's lock waits after the idle table's first lock, from the server's deadlock_timeout (DT): each wait at
 * most waitMs (DT/4); a full wait starts only while it would end within boundMs (5/8 DT) of that first lock; later
 * than that, only a short one (quickMs, DT/16), and only while it would end within lateBoundMs (3/4 DT); later still
 * the attempt is given up and retried. A session that waits for the switch started after that first lock, so its own
 * deadlock_timeout comes later than any of these ends. The quarter left over, and twice the round trip of the
 * statement after the first lock counted as time spent, cover what the client cannot see: the time between the
 * server granting a lock and the client hearing of it, and between the client sending a lock and the server's wait.
 */
export function switchWaits(sw: Pick<TableSwitch, 'deadlockTimeoutMs'>, policy: Pick<RetryPolicy, 'lockTimeoutMs'>): { waitMs: number; boundMs: number; quickMs: number; lateBoundMs: number } {
  const dt = Math.max(16, sw.deadlockTimeoutMs);
  const waitMs = Math.max(1, Math.min(policy.lockTimeoutMs, Math.floor(dt / 4)));
  return { waitMs, boundMs: Math.floor((dt * 5) / 8), quickMs: Math.min(waitMs, Math.floor(dt / 16)), lateBoundMs: Math.floor((dt * 3) / 4) };
}

/** What the switch sends before its EXCLUSIVE and ACCESS EXCLUSIVE locks when the full wait could end past the bound. */
export const LATE_LOCK = 'the switch has held its first lock so long that a full lock wait could end past 5/8 of deadlock_timeout: the next locks wait only briefly';
export const quickWait = (sw: Pick<TableSwitch, 'deadlockTimeoutMs'>, policy: Pick<RetryPolicy, 'lockTimeoutMs'>): string => `SET LOCAL lock_timeout = '${switchWaits(sw, policy).quickMs}ms'`;

/**
 * The switch's SQL as it runs. Before the gate, SHARE UPDATE EXCLUSIVE on the live table, the other tables (those
 * whose foreign keys move) and the idle table, each with the policy's lock_timeout: no DDL or trigger change reaches
 * them while the gate checks them, and the application's reads and writes go on (autovacuum, which holds the same
 * mode, is waited for as long as the policy says; waiting for it holds no application write). After the gate, the
 * bounded part (switchWaits): ACCESS EXCLUSIVE on the idle table, then on the live table, the replay, the other
 * tables' own modes, the statements. The live table goes from SHARE UPDATE EXCLUSIVE straight to ACCESS EXCLUSIVE:
 * holding EXCLUSIVE (which blocks writes) while waiting for ACCESS EXCLUSIVE (which waits for readers) made an
 * application transaction that had read the table and then wrote to it the victim of an immediate deadlock
 * (PostgreSQL reports a cycle at once when the new request conflicts with a waiter that waits for it).
 */
export function switchScript(sw: TableSwitch, policy: Pick<RetryPolicy, 'lockTimeoutMs'>): { beforeGate: string[]; bounded: string[]; afterReplay: string[]; statements: string[] } {
  const others = otherLocks(sw);
  return {
    beforeGate: [
      `LOCK TABLE ${sw.live} IN SHARE UPDATE EXCLUSIVE MODE`,
      ...others.map((l) => `LOCK TABLE ${l.on} IN SHARE UPDATE EXCLUSIVE MODE`),
      `LOCK TABLE ${sw.idle} IN SHARE UPDATE EXCLUSIVE MODE`,
    ],
    bounded: [`LOCK TABLE ${sw.idle} IN ACCESS EXCLUSIVE MODE`, `SET LOCAL lock_timeout = '${switchWaits(sw, policy).waitMs}ms'`, `LOCK TABLE ${sw.live} IN ACCESS EXCLUSIVE MODE`],
    afterReplay: others.filter((l) => MODE_RANK[l.mode] > MODE_RANK['SHARE UPDATE EXCLUSIVE']).map((l) => `LOCK TABLE ${l.on} IN ${l.mode} MODE`),
    statements: sw.statements,
  };
}

/**
 * Everything switchTables sends on its first attempt (a lock timeout rolls it back and sends it again), for the
 * previews: the gate's catalog reads and the journal's record are not statements of the switch and are not listed.
 */
export function switchStatements(sw: TableSwitch, snap: Snapshot, cfg: Config, policy: Pick<RetryPolicy, 'lockTimeoutMs'>): ScriptStatement[] {
  const script = switchScript(sw, policy);
  const late = only(LATE_LOCK, [quickWait(sw, policy)]);
  const bounded = (locks: string[]) => locks.flatMap((l) => [...late, l]);
  const [idleLock, boundedWaits, liveLock] = script.bounded;
  return [
    ...lockedOpening(policy), captureLockStatement(cfg, sw.direction), ...script.beforeGate, idleLock!, boundedWaits!, ...bounded([liveLock!]),
    ...replayStatements(snap, cfg, sw.direction, { locked: true }), ...bounded(script.afterReplay), ...late, ...script.statements, 'COMMIT',
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
  const { waitMs, boundMs, quickMs, lateBoundMs } = switchWaits(sw, ctx.retry);
  let replayed = 0;
  let attempts = 0;
  await lockedTransaction(client, { policy: ctx.retry, emit: ctx.emit, step, relations: [sw.live, sw.idle, ...otherLocks(sw).map((l) => l.on)] }, async (exec: Exec, n) => {
    attempts = n;
    await lockCapture(client, cfg, sw.direction);
    for (const s of script.beforeGate) await exec(s);
    await hooks.gate?.(client);
    const [idleLock, boundedWaits, liveLock] = script.bounded;
    await exec(idleLock!);
    const firstLockAt = performance.now();
    await exec(boundedWaits!);
    // what the client cannot see (switchWaits): counted as twice this statement's round trip
    const unseen = 2 * (performance.now() - firstLockAt);
    // a full wait that could end after the bound is not started: a short one instead, or the attempt rolls back and
    // is retried (see the top and switchWaits)
    const withinBound = async (what: string) => {
      const spent = Math.round(performance.now() - firstLockAt + unseen);
      if (spent + waitMs <= boundMs) return;
      if (spent + quickMs > lateBoundMs) throw new SwitchOverBound(what, spent, lateBoundMs, sw.deadlockTimeoutMs);
      await exec(quickWait(sw, ctx.retry));
    };
    await withinBound(liveLock!);
    await exec(liveLock!);
    replayed = await replayInTransaction(client, snap, cfg, sw.direction, undefined, { locked: true });
    for (const s of script.afterReplay) {
      await withinBound(s);
      await exec(s);
    }
    // the statements' own locks (a materialized view's) wait no longer than the others
    await withinBound('the switch\'s statements');
    for (const s of script.statements) await exec(s);
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
