import { useEffect, useState } from 'react';

/** A counter that advances every `ms` while `active` (spinners, elapsed time); 4/s keeps redraws cheap. */
export function useTicker(active: boolean, ms = 250): number {
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => setTick((t) => t + 1), ms);
    return () => clearInterval(timer);
  }, [active, ms]);
  return tick;
}
