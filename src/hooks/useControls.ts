import { useCallback, useEffect, useRef, useState } from 'react';
import { readControls, setControls, type Controls } from '../move/control.js';
import type { AppSession } from '../screens/session.js';
import { redact } from '../db/connect.js';
import { onView } from './viewSession.js';

export interface ControlsView {
  controls: Controls | null;
  /** when this terminal last changed them (Date.now()): newer than the migration state's read, they are what is in force */
  changedAt: number;
  error: string | null;
  /** applies `update` to the controls in force when its turn comes (presses queue up, none is lost) */
  change(update: (current: Controls) => Partial<Controls>): void;
}

/** Batch sizes and rate limits the + / - and b / B keys step through. */
export const BATCH_SIZES = [100, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000];
export const RATES: Array<number | null> = [100, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000, null];

/** The next value in `list` after (dir 1) or before (dir -1) `current`; null counts as the end (no limit). */
export function stepThrough<T extends number | null>(list: T[], current: T, dir: 1 | -1): T {
  const pos = (v: T) => (v === null ? Infinity : (v as number));
  if (dir === 1) return list.find((v) => pos(v) > pos(current)) ?? list[list.length - 1]!;
  const below = list.filter((v) => pos(v) < pos(current));
  return below.length ? below[below.length - 1]! : list[0]!;
}

/**
 * The migration's live controls (pause, batch size, rate), through the journal table partwise.control on the
 * view session: the copy loop reads them between batches, whichever terminal set them.
 */
export function useControls(session: AppSession, active: boolean): ControlsView {
  const [controls, setState] = useState<Controls | null>(null);
  const [changedAt, setChangedAt] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const queue = useRef(Promise.resolve());
  const mounted = useRef(true);

  const enqueue = useCallback(
    (work: () => Promise<Controls>, changing: boolean) => {
      queue.current = queue.current
        .then(work)
        .then((c) => {
          if (mounted.current) {
            setState(c);
            if (changing) setChangedAt(Date.now());
            setError(null);
          }
        })
        .catch((e: Error) => {
          if (mounted.current) setError(redact(e.message, session.engine.connection));
        });
    },
    [session],
  );

  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);

  useEffect(() => {
    if (!active || session.readOnly) return;
    // read once: while a copy runs here, its progress events carry the controls in force
    enqueue(() => onView(session, (c) => readControls(c, session.engine.cfg)), false);
  }, [active, session, enqueue]);

  const change = useCallback(
    (update: (current: Controls) => Partial<Controls>) => {
      if (session.readOnly) return;
      // from the journal's current values, never a remembered copy: another terminal may have changed them
      // (after `partwise pause` elsewhere, the first p here resumes)
      enqueue(
        () => onView(session, async (c) => setControls(c, session.engine.cfg, update(await readControls(c, session.engine.cfg)))),
        true,
      );
    },
    [session, enqueue],
  );

  return { controls, changedAt, error, change };
}
