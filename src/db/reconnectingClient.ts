/**
 * A session that comes back by itself after its connection is lost (the server restarted, `partwise demo stop` and a
 * new start, a network cut): the next query opens a new connection. For standalone reads only, such as the app's view
 * session (journal, controls, monitor): a transaction never spans a reconnect, so the engine's session is never one.
 */
import type pg from 'pg';

/** Set on errors of a query that failed because the connection is gone: the caller shows "reconnecting". */
export interface ConnectionLost {
  connectionLost: true;
}

export function isConnectionLost(e: unknown): e is Error & ConnectionLost {
  return typeof e === 'object' && e !== null && (e as Partial<ConnectionLost>).connectionLost === true;
}

/** Messages and SQLSTATE classes of a connection that will not answer again. */
const GONE_CODES = /^(57P0[1-3]|08...|ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|ENOTFOUND|EHOSTUNREACH)$/;
const GONE_TEXT = /Connection terminated|terminating connection|not queryable|connection error|Client was closed|ECONNRESET|ECONNREFUSED|EPIPE|timeout expired/i;

/**
 * Wraps `first` (already open) in a pg.Client look-alike whose queries go to the current connection, opened again
 * with `open` when the last one was lost. `end()` ends it for good.
 */
export function reconnectingClient(first: pg.Client, open: () => Promise<pg.Client>): pg.Client {
  let current: pg.Client | null = null;
  let last = first;
  let ended = false;
  let attempts = 0;
  let opening: Promise<pg.Client> | null = null;

  const adopt = (c: pg.Client) => {
    current = c;
    last = c;
    attempts = 0;
    const lose = () => {
      if (current === c) current = null;
    };
    c.on('error', lose);
    c.on('end', lose);
  };
  adopt(first);

  const connection = async (): Promise<pg.Client> => {
    if (current) return current;
    if (ended) throw new Error('the session was closed');
    opening ??= (async () => {
      attempts++;
      try {
        const c = await open();
        if (ended) {
          await c.end().catch(() => undefined);
          throw new Error('the session was closed');
        }
        adopt(c);
        return c;
      } catch (e) {
        throw lost(e, `attempt ${attempts}: ${(e as Error).message}`);
      } finally {
        opening = null;
      }
    })();
    return opening;
  };

  const query = async (...args: unknown[]) => {
    const c = await connection();
    try {
      return await (c.query as (...a: unknown[]) => Promise<unknown>)(...args);
    } catch (e) {
      if (current !== c || isGone(e)) {
        if (current === c) current = null;
        void c.end().catch(() => undefined);
        throw lost(e, (e as Error).message);
      }
      throw e;
    }
  };

  const end = async () => {
    ended = true;
    await (opening ?? Promise.resolve()).catch(() => undefined);
    await (current ?? last).end().catch(() => undefined);
    current = null;
  };

  return new Proxy(first, {
    get(_target, prop) {
      if (prop === 'query') return query;
      if (prop === 'end') return end;
      const target = current ?? last;
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

function isGone(e: unknown): boolean {
  const err = e as { code?: string; message?: string };
  return (typeof err.code === 'string' && GONE_CODES.test(err.code)) || GONE_TEXT.test(err.message ?? '');
}

function lost(e: unknown, message: string): Error & ConnectionLost {
  const err = new Error(message) as Error & ConnectionLost & { cause?: unknown };
  err.connectionLost = true;
  err.cause = e;
  return err;
}
