import { useEffect, useRef, useState } from 'react';
import { progressFromReadings, readCopyBase, readCopyProgress, type CopyBase, type CopyReading } from '../state/copyProgress.js';
import type { AppSession } from '../screens/session.js';
import type { OverallEvent, ProgressEvent } from './runState.js';
import { onView } from './viewSession.js';

export interface JournalProgress {
  programs: ProgressEvent[];
  overall: OverallEvent | null;
}

/**
 * The copy's progress from the journal every `intervalMs`, for a copy this terminal does not run (watch, or before a
 * resume): rates from the difference between reads, per program.
 */
export function useCopyProgress(session: AppSession, active: boolean, intervalMs = 1000): JournalProgress | undefined {
  const [progress, setProgress] = useState<JournalProgress | undefined>(undefined);
  const base = useRef<CopyBase | null>(null);
  const last = useRef<CopyReading | null>(null);

  useEffect(() => {
    if (!active) return;
    let alive = true;
    let busy = false;
    const read = async () => {
      if (busy) return;
      busy = true;
      try {
        base.current ??= await onView(session, (c) => readCopyBase(c, session.engine.cfg));
        const copy = await onView(session, (c) => readCopyProgress(c, session.engine.cfg, base.current!));
        if (!alive || !copy) return;
        const p = progressFromReadings(copy, last.current, Date.now());
        last.current = p.reading;
        setProgress({ programs: p.programs, overall: p.overall });
      } catch {
        // the status line reports the connection's health; the next read tries again
      } finally {
        busy = false;
      }
    };
    void read();
    const timer = setInterval(() => void read(), intervalMs);
    return () => {
      alive = false;
      clearInterval(timer);
    };
  }, [session, active, intervalMs]);

  return progress;
}
