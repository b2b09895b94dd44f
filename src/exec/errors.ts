import type { PersonError } from '../events.js';

interface PgError extends Error {
  code?: string;
  hint?: string;
  detail?: string;
}

export const NO_CASCADE = 'partwise never drops dependent objects for you (no CASCADE): move or drop the ones the detail names yourself, then run the step again';

/** A server error turned into words for the person at the terminal. */
export function personError(e: unknown, ctx: { statement?: string; unchanged?: string; todo?: string } = {}): PersonError {
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
