/** A malformed connection URL, said plainly before anything connects (a light module: the CLI checks it first). */
import { parse as parseUrl } from 'pg-connection-string';

const URL_FORM = 'postgres://user:password@host:port/database';

/**
 * What is wrong with a connection URL, in words that never quote the password (null when it looks right). The
 * parser underneath is lenient: `postgres//bad` would be read as a socket path and connect to the host "base".
 */
export function urlProblem(url: string): string | null {
  if (!/^postgres(ql)?:\/\//i.test(url)) {
    // letters and the separator that follows them: a scheme or a user name, never the password
    const began = /^[a-z][a-z0-9+.-]*:?\/*/i.exec(url)?.[0];
    return `it must begin with postgres:// or postgresql://${began ? ` (it begins with "${began}")` : ''}; expected ${URL_FORM}`;
  }
  let parsed: ReturnType<typeof parseUrl>;
  try {
    parsed = parseUrl(url);
  } catch {
    // why, without quoting any of it (the parser's own message may echo the URL, password included)
    const rest = url.replace(/^postgres(ql)?:\/\//i, '');
    const hostPort = rest.slice(rest.lastIndexOf('@') + 1).split(/[/?]/)[0]!;
    const port = /^(?:\[[^\]]*\]|[^:]*):(.*)$/.exec(hostPort)?.[1];
    if (port !== undefined && !(/^[0-9]{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535)) {
      return `the port is not a number from 1 to 65535; expected ${URL_FORM}`;
    }
    return `it could not be parsed (a password with / ? # or % in it must be percent-encoded); expected ${URL_FORM}`;
  }
  if (parsed.host && /\s/.test(parsed.host)) return `the host contains a space; expected ${URL_FORM}`;
  return null;
}
