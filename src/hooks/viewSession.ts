import type pg from 'pg';
import type { AppSession } from '../screens/session.js';

const queues = new WeakMap<pg.Client, Promise<unknown>>();

/**
 * Runs one read (or control change) on the app's view session, after the ones before it have finished. The hooks
 * share that session, and some reads are transactions of several statements (a catalog snapshot, the count per
 * program): another hook's statement sent in between would run inside them (a control change inside a read-only
 * transaction fails; a read sees the other's snapshot).
 */
export function onView<T>(session: Pick<AppSession, 'view'>, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const before = queues.get(session.view) ?? Promise.resolve();
  const run = before.then(() => work(session.view));
  queues.set(session.view, run.catch(() => undefined));
  return run;
}
