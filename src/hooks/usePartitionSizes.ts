import { useCallback, useEffect, useRef, useState } from 'react';
import { exactRowCount, readPartitionSizes, type PartitionSizes } from '../monitor/partitionSizes.js';
import type { AppSession } from '../screens/session.js';
import { redact } from '../db/connect.js';
import { onView } from './viewSession.js';

export const MIN_REFRESH_MS = 500;
export const MAX_REFRESH_MS = 10_000;
export const DEFAULT_REFRESH_MS = 2000;

export interface PartitionSizesView {
  sizes: PartitionSizes | null;
  error: string | null;
  refreshing: boolean;
  intervalMs: number;
  /** exact row counts asked for, by partition name */
  exact: Record<string, number | 'counting'>;
  refreshNow(): void;
  /** +1 slower, -1 faster, within 0.5-10 s */
  changeInterval(direction: 1 | -1): void;
  countExactly(schema: string, partition: string): void;
}

const STEPS_MS = [500, 1000, 2000, 5000, 10_000];

/**
 * The monitor's data: one catalog query per refresh on the view session, never more than one in flight, so the
 * keyboard stays responsive whatever the number of partitions.
 */
export function usePartitionSizes(session: AppSession, active: boolean): PartitionSizesView {
  const [sizes, setSizes] = useState<PartitionSizes | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [refreshing, setRefreshing] = useState(false);
  const [intervalMs, setIntervalMs] = useState(DEFAULT_REFRESH_MS);
  const [exact, setExact] = useState<Record<string, number | 'counting'>>({});
  const inFlight = useRef(false);
  const mounted = useRef(true);

  const refreshNow = useCallback(() => {
    if (inFlight.current) return;
    inFlight.current = true;
    setRefreshing(true);
    onView(session, (c) => readPartitionSizes(c, session.engine.cfg))
      .then((s) => {
        if (!mounted.current) return;
        setSizes(s);
        setError(null);
      })
      .catch((e: Error) => mounted.current && setError(redact(e.message, session.engine.connection)))
      .finally(() => {
        inFlight.current = false;
        if (mounted.current) setRefreshing(false);
      });
  }, [session]);

  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);

  useEffect(() => {
    if (!active) return;
    refreshNow();
    const timer = setInterval(refreshNow, intervalMs);
    return () => clearInterval(timer);
  }, [active, intervalMs, refreshNow]);

  const changeInterval = useCallback((direction: 1 | -1) => {
    setIntervalMs((ms) => {
      const i = STEPS_MS.findIndex((s) => s >= ms);
      const next = STEPS_MS[Math.max(0, Math.min(STEPS_MS.length - 1, (i < 0 ? STEPS_MS.length - 1 : i) + direction))]!;
      return Math.max(MIN_REFRESH_MS, Math.min(MAX_REFRESH_MS, next));
    });
  }, []);

  const countExactly = useCallback(
    (schema: string, partition: string) => {
      setExact((x) => ({ ...x, [partition]: 'counting' }));
      onView(session, (c) => exactRowCount(c, schema, partition))
        .then((n) => mounted.current && setExact((x) => ({ ...x, [partition]: n })))
        .catch((e: Error) => {
          if (!mounted.current) return;
          setExact((x) => {
            const { [partition]: _, ...rest } = x;
            return rest;
          });
          setError(`exact count of ${partition} failed: ${redact(e.message, session.engine.connection)}`);
        });
    },
    [session],
  );

  return { sizes, error, refreshing, intervalMs, exact, refreshNow, changeInterval, countExactly };
}
