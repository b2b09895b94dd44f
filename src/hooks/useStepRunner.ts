import { useCallback, useEffect, useRef, useState } from 'react';
import type { FlagValues } from '../registry/types.js';
import type { ChecklistId } from '../registry/index.js';
import type { EngineEvent } from '../events.js';
import { personError } from '../exec/errors.js';
import type { AppSession } from '../screens/session.js';
import { applyEvent, copyRun, finishRun, newRun, type StepRun } from './runState.js';

/** Redraws at most this often while a step runs, however many events the engine emits (slow SSH links). */
export const FLUSH_MS = 100;

export interface Runner {
  runs: Partial<Record<ChecklistId, StepRun>>;
  running: ChecklistId | null;
  start(step: ChecklistId, command: string, flags?: FlagValues): void;
  /** asks the running step to stop at its next safe point (migrate: after the current batch commits) */
  stop(): void;
  /** resolves when no step runs */
  idle(): Promise<void>;
}

/** Runs steps through the dispatcher on the engine session and turns their events into throttled React state. */
export function useStepRunner(session: AppSession, onFinished?: (step: ChecklistId, run: StepRun) => void): Runner {
  const [runs, setRuns] = useState<Partial<Record<ChecklistId, StepRun>>>({});
  const [running, setRunning] = useState<ChecklistId | null>(null);
  const live = useRef<{ step: ChecklistId; run: StepRun; dirty: boolean; abort: AbortController; done: Promise<void> } | null>(null);
  const finished = useRef(onFinished);
  finished.current = onFinished;

  const flush = useCallback(() => {
    const cur = live.current;
    if (!cur || !cur.dirty) return;
    cur.dirty = false;
    const snapshot = copyRun(cur.run);
    setRuns((r) => ({ ...r, [cur.step]: snapshot }));
  }, []);

  useEffect(() => {
    if (!running) return;
    const timer = setInterval(flush, FLUSH_MS);
    return () => clearInterval(timer);
  }, [running, flush]);

  const start = useCallback(
    (step: ChecklistId, command: string, flags: FlagValues = {}) => {
      if (live.current || session.readOnly) return;
      const run = newRun(command, flags, Date.now());
      const abort = new AbortController();
      const emit = (e: EngineEvent) => {
        const cur = live.current;
        if (!cur) return;
        applyEvent(cur.run, e);
        cur.dirty = true;
      };
      const entry = { step, run, dirty: true, abort, done: Promise.resolve() };
      live.current = entry;
      setRunning(step);
      flush();
      entry.done = (async () => {
        try {
          const result = await session.runCommand(command, { ...session.engine, emit, signal: abort.signal }, flags);
          finishRun(run, result, null, Date.now());
        } catch (e) {
          finishRun(run, null, personError(e, { unchanged: 'the step did not finish; what it had started in its open transaction was rolled back by the server' }), Date.now());
        }
        entry.dirty = true;
        flush();
        live.current = null;
        session.active.current = null;
        setRunning(null);
        finished.current?.(step, run);
      })();
      session.active.current = { stop: () => stopRef.current(), done: entry.done };
    },
    [session, flush],
  );

  const stopRef = useRef<() => void>(() => undefined);
  const stop = useCallback(() => {
    const cur = live.current;
    if (!cur || cur.abort.signal.aborted) return;
    cur.run.stopping = true;
    cur.dirty = true;
    cur.abort.abort();
    flush();
  }, [flush]);

  stopRef.current = stop;

  const idle = useCallback(() => live.current?.done ?? Promise.resolve(), []);

  return { runs, running, start, stop, idle };
}
