import { useEffect, useRef, useState } from 'react';
import { readWatchBase, readWatchedCopy, type WatchBase } from '../cli/watch.js';
import { eta } from '../move/progress.js';
import type { AppSession } from '../screens/session.js';
import type { OverallEvent, ProgressEvent } from './runState.js';

export interface Watched {
  programs: ProgressEvent[];
  overall: OverallEvent | null;
}

/** watch: the copy's progress from the journal every `intervalMs`, with rates from the difference between reads. */
export function useWatchedProgress(session: AppSession, active: boolean, intervalMs = 1000): Watched | undefined {
  const [watched, setWatched] = useState<Watched | undefined>(undefined);
  const base = useRef<WatchBase | null>(null);
  const last = useRef<{ at: number; copied: Map<string, number> } | null>(null);

  useEffect(() => {
    if (!active) return;
    let alive = true;
    let busy = false;
    const read = async () => {
      if (busy) return;
      busy = true;
      try {
        base.current ??= await readWatchBase(session.view, session.engine.cfg);
        const copy = await readWatchedCopy(session.view, session.engine.cfg, base.current);
        if (!alive || !copy) return;
        const now = Date.now();
        const prev = last.current;
        const secs = prev ? (now - prev.at) / 1000 : 0;
        const programs: ProgressEvent[] = copy.programs.map((p) => {
          const rate = prev && secs > 0 ? Math.max(0, (p.copied - (prev.copied.get(p.program) ?? p.copied)) / secs) : 0;
          return { type: 'progress', program: p.program, label: p.label, copied: p.copied, total: p.total, rowsPerSec: rate, etaSec: eta(p.total - p.copied, rate), state: p.state };
        });
        last.current = { at: now, copied: new Map(copy.programs.map((p) => [p.program, p.copied])) };
        const copied = programs.reduce((n, p) => n + p.copied, 0);
        const total = programs.reduce((n, p) => n + p.total, 0);
        const rate = programs.reduce((n, p) => n + p.rowsPerSec, 0);
        setWatched({
          programs,
          overall: { type: 'progress.overall', copied, total, rowsPerSec: rate, etaSec: eta(total - copied, rate), backlog: copy.backlog, paused: copy.paused, batchSize: copy.batchSize, maxRate: copy.maxRate, mode: 'all' },
        });
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

  return watched;
}
