import pg from 'pg';
import { parse as parseUrl } from 'pg-connection-string';
import pgpass from 'pgpass';
import type { ConnectionOptions } from 'node:tls';
import { readFileSync } from 'node:fs';
import { urlProblem } from './urlProblem.js';

/** Where the connection comes from, in the documented order of precedence. */
export type ConnectionSource = 'url-flag' | 'DATABASE_URL' | 'libpq-env' | 'embedded';

export interface ConnectionTarget {
  source: ConnectionSource;
  config: pg.ClientConfig;
}

/** True when the environment names a server (otherwise partwise uses the embedded rehearsal database). */
export function libpqEnvGiven(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.PGHOST || env.PGPORT || env.PGDATABASE || env.PGHOSTADDR);
}

/** libpq's sslmode semantics: require encrypts without verifying; verify-* verify; prefer/allow/disable do not encrypt. */
function sslFor(mode: string | undefined, rootCertPath?: string): pg.ClientConfig['ssl'] {
  switch (mode) {
    case undefined:
    case '':
    case 'disable':
    case 'allow':
    case 'prefer':
      return false;
    case 'require':
      return { rejectUnauthorized: false };
    case 'verify-ca': {
      const o: ConnectionOptions = { rejectUnauthorized: true, checkServerIdentity: () => undefined };
      if (rootCertPath) o.ca = readFileSync(rootCertPath, 'utf8');
      return o;
    }
    case 'verify-full': {
      const o: ConnectionOptions = { rejectUnauthorized: true };
      if (rootCertPath) o.ca = readFileSync(rootCertPath, 'utf8');
      return o;
    }
    default:
      throw new Error(`unknown sslmode "${mode}" (use disable, allow, prefer, require, verify-ca or verify-full)`);
  }
}

/** A password read from ~/.pgpass (or PGPASSFILE) when none is given, as libpq does. */
function pgpassLookup(c: pg.ClientConfig): () => Promise<string> {
  return () =>
    new Promise((resolve) =>
      pgpass(
        { host: c.host ?? 'localhost', port: c.port ?? 5432, database: c.database ?? c.user, user: c.user },
        (pw) => resolve(pw ?? ''),
      ),
    );
}

export function configFromUrl(url: string): pg.ClientConfig {
  const problem = urlProblem(url);
  if (problem) throw new Error(`the connection URL is not valid: ${problem}`);
  const parsed = parseUrl(url);
  const sslmode = (parsed as { sslmode?: string }).sslmode;
  const cfg: pg.ClientConfig = {
    host: parsed.host ?? undefined,
    port: parsed.port ? Number(parsed.port) : undefined,
    user: parsed.user ?? undefined,
    database: parsed.database ?? undefined,
    password: parsed.password ?? undefined,
    ssl: sslFor(sslmode, (parsed as { sslrootcert?: string }).sslrootcert),
  };
  if (cfg.password === undefined || cfg.password === '') cfg.password = pgpassLookup(cfg);
  return cfg;
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): pg.ClientConfig {
  const cfg: pg.ClientConfig = {
    host: env.PGHOST ?? env.PGHOSTADDR ?? 'localhost',
    port: env.PGPORT ? Number(env.PGPORT) : 5432,
    user: env.PGUSER ?? (process.env.USER || 'postgres'),
    database: env.PGDATABASE ?? env.PGUSER ?? process.env.USER,
    ssl: sslFor(env.PGSSLMODE, env.PGSSLROOTCERT),
  };
  cfg.password = env.PGPASSWORD !== undefined ? env.PGPASSWORD : pgpassLookup(cfg);
  return cfg;
}

/** --url, else DATABASE_URL, else the libpq environment and ~/.pgpass, else the embedded server. */
export function resolveConnection(urlFlag: string | undefined, env: NodeJS.ProcessEnv = process.env): ConnectionTarget {
  if (urlFlag) return { source: 'url-flag', config: configFromUrl(urlFlag) };
  if (env.DATABASE_URL) return { source: 'DATABASE_URL', config: configFromUrl(env.DATABASE_URL) };
  if (libpqEnvGiven(env)) return { source: 'libpq-env', config: configFromEnv(env) };
  return { source: 'embedded', config: {} };
}

/** host:port/database as user — what the status line and messages show. Never the password. */
export function describeTarget(c: pg.ClientConfig): string {
  return `${c.host ?? 'localhost'}:${c.port ?? 5432}/${c.database ?? c.user ?? ''} as ${c.user ?? ''}`;
}

/** Removes a password from any text (an error message may echo a URL). */
export function redact(text: string, c?: pg.ClientConfig): string {
  let out = text.replace(/(postgres(?:ql)?:\/\/[^:/@\s]*:)[^@\s]*@/gi, '$1***@');
  if (c && typeof c.password === 'string' && c.password.length > 0) out = out.split(c.password).join('***');
  return out;
}
