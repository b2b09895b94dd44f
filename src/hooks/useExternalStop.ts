import { useEffect, useRef } from 'react';
import type { EventEmitter } from 'node:events';
import type { Runner } from './useStepRunner.js';

/**
 * SIGHUP (the SSH link dropped), SIGTERM or SIGINT from outside: a running step is asked to stop at its next safe
 * point (the migrate loop commits the current batch and journals it), then the app exits; with nothing running it
 * exits at once. `signals` emits 'stop' with the signal's name.
 */
export function useExternalStop(signals: EventEmitter | undefined, runner: Runner, exit: (code: number) => void): void {
  const latest = useRef({ runner, exit });
  latest.current = { runner, exit };
  useEffect(() => {
    if (!signals) return;
    const onStop = () => {
      const { runner: r, exit: x } = latest.current;
      if (!r.running) return x(130);
      r.stop();
      void r.idle().then(() => x(130));
    };
    signals.on('stop', onStop);
    return () => {
      signals.off('stop', onStop);
    };
  }, [signals]);
}
