import type { PersonError } from '../events.js';
import { lastConnectionLoss } from '../db/session.js';

interface PgError extends Error {
  code?: string;
  hint?: string;
  detail?: string;
}

export const NO_CASCADE = 'partwise never drops dependent objects for you (no CASCADE): move or drop the ones the detail names yourself, then run the step again';

/** What the server's code for an ended session means, in people's words. */
const SESSION_ENDED: Record<string, string> = {
  '57P01': "the server ended partwise's session (pg_terminate_backend, or the server shutting down or restarting)",
  '57P02': 'the server ended every session because another server process crashed',
  '57P03': 'the server is starting up or shutting down and accepts no connection',
  '57P05': 'the server ended the idle session (idle_session_timeout)',
  '25P03': 'the server ended the session after it sat idle in a transaction too long (idle_in_transaction_session_timeout)',
};

const DRIVER_LOST = /not queryable|Connection terminated|ECONNRESET|EPIPE|socket hang up|write after end/i;

/**
 * A lost connection in people's words, with what the server said when it said something. The driver reports a
 * query on a connection the server already closed as "not queryable": the server's reason then comes from the
 * session's last error event (src/db/session.ts).
 */
function connectionLost(err: PgError): { message: string; server?: PgError } | null {
  const own = typeof err?.code === 'string' && SESSION_ENDED[err.code] ? err : null;
  if (!own && !(err instanceof Error && DRIVER_LOST.test(err.message))) return null;
  const loss = lastConnectionLoss() as PgError | null;
  const server = own ?? (loss && typeof loss.code === 'string' ? loss : undefined);
  if (server) return { message: `the connection to the server was lost: ${SESSION_ENDED[server.code!] ?? 'the server ended the session'}; the server said "${server.message}" (${server.code})`, server };
  return { message: `the connection to the server was lost without a word from the server (the network, a proxy, or the server process ended): ${loss?.message ?? err.message}` };
}

/** A server error turned into words for the person at the terminal. */
export function personError(e: unknown, ctx: { statement?: string; unchanged?: string; todo?: string } = {}): PersonError {
  const lost = connectionLost(e as PgError);
  if (lost) {
    const out: PersonError = { message: lost.message, ...ctx };
    if (lost.server) {
      out.code = lost.server.code;
      out.serverMessage = lost.server.message;
    }
    return out;
  }
  const err = e as PgError;
  const out: PersonError = { message: err?.message ?? String(e), ...ctx };
  if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'string') {
    out.code = err.code;
    out.serverMessage = err.message;
    // the server's "Use DROP ... CASCADE" would drop what depends on the object (a child table with its rows): never
    // passed on; the detail names the dependents
    if (err.hint) out.serverHint = /\bCASCADE\b/.test(err.hint) ? NO_CASCADE : err.hint;
    if (err.detail) out.serverDetail = err.detail;
  }
  return out;
}

export const LOCK_NOT_AVAILABLE = '55P03';
export const DEADLOCK = '40P01';
export const SERIALIZATION = '40001';
