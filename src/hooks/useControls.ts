import { useCallback, useEffect, useRef, useState } from 'react';
import { readControls, setControls, type Controls } from '../move/control.js';
import type { AppSession } from '../screens/session.js';
import { redact } from '../db/connect.js';

export interface ControlsView {
  controls: Controls | null;
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
  const [error, setError] = useState<string | null>(null);
  const queue = useRef(Promise.resolve());
  const latest = useRef<Controls | null>(null);
  const mounted = useRef(true);

  const enqueue = useCallback(
    (work: () => Promise<Controls>) => {
      queue.current = queue.current
        .then(work)
        .then((c) => {
          latest.current = c;
          if (mounted.current) {
            setState(c);
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
    enqueue(() => readControls(session.view, session.engine.cfg));
  }, [active, session, enqueue]);

  const change = useCallback(
    (update: (current: Controls) => Partial<Controls>) => {
      if (session.readOnly) return;
      enqueue(async () => {
        const current = latest.current ?? (await readControls(session.view, session.engine.cfg));
        return setControls(session.view, session.engine.cfg, update(current));
      });
    },
    [session, enqueue],
  );

  return { controls, error, change };
}
