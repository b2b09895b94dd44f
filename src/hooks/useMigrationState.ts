import { useCallback, useEffect, useRef, useState } from 'react';
import type { AppSession } from '../screens/session.js';
import { readMigrationFacts, type MigrationFacts } from '../state/facts.js';
import { redact } from '../db/connect.js';
import { isConnectionLost } from '../db/reconnectingClient.js';
import { onView } from './viewSession.js';

/**
 * How the view session fared on its last read: the status line's connection health; reconnecting when the connection
 * was lost (the session opens a new one at the next read).
 */
export interface Health {
  ok: boolean;
  latencyMs: number | null;
  error: string | null;
  checkedAt: number | null;
  reconnecting?: boolean;
}

export interface FactsView {
  /** the journal and catalog as last read (null until the first read); the app computes the state from them */
  facts: MigrationFacts | null;
  /** how the view session fared on its last read: the status line's connection health */
  health: Health;
  refresh(): void;
}

/**
 * The facts the migration's state is computed from, re-read every `intervalMs` on the view session (another terminal
 * may be moving things on) and on refresh(). Never more than one read in flight.
 */
export function useMigrationFacts(session: AppSession, intervalMs = 2000): FactsView {
  const [facts, setFacts] = useState<MigrationFacts | null>(null);
  const [health, setHealth] = useState<Health>({ ok: true, latencyMs: null, error: null, checkedAt: null });
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
      const f = await onView(session, (c) => readMigrationFacts(c, session.engine.cfg, { backlog: true }));
      if (mounted.current) {
        setFacts(f);
        setHealth({ ok: true, latencyMs: Date.now() - t0, error: null, checkedAt: Date.now() });
      }
    } catch (e) {
      if (mounted.current) {
        setHealth({ ok: false, latencyMs: null, error: redact((e as Error).message, session.engine.connection), checkedAt: Date.now(), reconnecting: isConnectionLost(e) });
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

  return { facts, health, refresh: useCallback(() => void read(), [read]) };
}
