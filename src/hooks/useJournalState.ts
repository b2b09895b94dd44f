import { useCallback, useEffect, useRef, useState } from 'react';
import type { AppSession } from '../screens/session.js';
import { runStatus } from '../steps/status.js';
import { redact } from '../db/connect.js';
import { isConnectionLost } from '../db/reconnectingClient.js';

export interface JournalStep {
  step: string;
  /** 'interrupted': left running by a process that is gone */
  status: 'running' | 'done' | 'failed' | 'skipped' | 'interrupted';
  error: string | null;
  finishedAt: string | null;
  detail: Record<string, unknown>;
}

export interface JournalView {
  loaded: boolean;
  phase: string | null;
  steps: JournalStep[];
  /**
   * how the view session fared on its last read: the status line's connection health; reconnecting when the
   * connection was lost (the session opens a new one at the next read)
   */
  health: { ok: boolean; latencyMs: number | null; error: string | null; checkedAt: number | null; reconnecting?: boolean };
  refresh(): void;
}

/** The journal as the checklist shows it, re-read every `intervalMs` (another terminal may be moving things on). */
export function useJournalState(session: AppSession, intervalMs = 2000): JournalView {
  const [state, setState] = useState<Omit<JournalView, 'refresh'>>({
    loaded: false, phase: null, steps: [], health: { ok: true, latencyMs: null, error: null, checkedAt: null },
  });
  const inFlight = useRef(false);
  const again = useRef(false);
  const mounted = useRef(true);

  const read = useCallback(async () => {
    if (inFlight.current) {
      again.current = true;
      return;
    }
    inFlight.current = true;
    const t0 = Date.now();
    try {
      const r = await runStatus({ ...session.engine, client: session.view, emit: () => undefined });
      const data = r.data as { phase: string | null; steps: JournalStep[] };
      if (mounted.current) {
        setState({ loaded: true, phase: data.phase, steps: data.steps, health: { ok: true, latencyMs: Date.now() - t0, error: null, checkedAt: Date.now() } });
      }
    } catch (e) {
      if (mounted.current) {
        const error = redact((e as Error).message, session.engine.connection);
        setState((s) => ({ ...s, health: { ok: false, latencyMs: null, error, checkedAt: Date.now(), reconnecting: isConnectionLost(e) } }));
      }
    } finally {
      inFlight.current = false;
      if (again.current && mounted.current) {
        again.current = false;
        void read();
      }
    }
  }, [session]);

  useEffect(() => {
    mounted.current = true;
    void read();
    const timer = setInterval(() => void read(), intervalMs);
    return () => {
      mounted.current = false;
      clearInterval(timer);
    };
  }, [read, intervalMs]);

  return { ...state, refresh: () => void read() };
}
