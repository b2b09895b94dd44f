/**
 * The rehearsal database: one PostgreSQL server per data directory, shared by every partwise process on it.
 *
 * The first process that needs it starts it detached (a session of its own, its output in a log file), so it
 * outlives that process, a closed terminal and a ctrl+c typed there; every other process connects to it: the app,
 * `watch` and headless commands come and go in any order. It runs until `partwise demo stop` (or a reboot). Counting
 * its users instead would go wrong after any SIGKILL, and a sequence of headless commands would pay a start and a stop
 * each (1-2.6 s).
 *
 * Beside the data directory <dir>:
 *   <dir>.password     the superuser's password (0600)
 *   <dir>.server.json  the port and pid of the last start (0600): the next start takes the same port
 *   <dir>.log          the server's log since its last start
 *   <dir>.lock         held while a process initialises, starts or stops the server: two processes starting at once
 *                      start one server, and a start never meets a stop half-way
 * PostgreSQL's own postmaster.pid, inside the data directory, says whether a server runs on it.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import {
  ADMIN_DB, EmbeddedConnectError, checkBinariesRunnable, checkNotPlanted, checkReachable, defaultEmbeddedDir, ensurePostgresOsUser, errMessage,
  freePort, initialiseCluster, isRoot, LogTail, makeConfig, PG_MAJOR, postgresBinaries, prepareDatabase, readPasswordFile,
  runningPostmaster, serverFlags, START_TIMEOUT_MS, writeSecretFile,
  type EmbeddedServer, type OsIds, type StartEmbeddedOptions,
} from './embedded.js';
import { processAlive, withFileLock } from './fileLock.js';

const STOP_TIMEOUT_MS = 60_000;

export function sharedServerFiles(dataDir: string) {
  return { password: `${dataDir}.password`, state: `${dataDir}.server.json`, log: `${dataDir}.log`, lock: `${dataDir}.lock` };
}

/** What <dir>.server.json records. */
export interface SharedServerState {
  port: number;
  pid: number;
}

/** The persistent cluster's server: the running one, or started now (initialised first if the directory is new). */
export async function startSharedServer(opts: StartEmbeddedOptions): Promise<EmbeddedServer> {
  const database = opts.database ?? 'postgres';
  const logs = new LogTail(opts.onLog);
  const ids = isRoot() ? await ensurePostgresOsUser() : undefined;
  const bins = await postgresBinaries();
  await checkBinariesRunnable(bins.postgres, ids);
  const dataDir = path.resolve(opts.dataDir ?? defaultEmbeddedDir());
  await fs.mkdir(path.dirname(dataDir), { recursive: true, mode: 0o755 });
  await checkNotPlanted(path.dirname(dataDir));
  if (ids) await checkReachable(dataDir, ids);
  const files = sharedServerFiles(dataDir);

  // a server that stops between our look and our connection (`demo stop` in another terminal) is started again
  for (let round = 1; ; round++) {
    const server = await withFileLock(files.lock, START_TIMEOUT_MS * 2, async () => {
      const password = await ensureCluster(dataDir, ids, logs);
      const running = await runningPostmaster(dataDir);
      if (running) return { ...running, password, started: false };
      return { ...(await startDetached(dataDir, bins.postgres, serverFlags(opts), ids, logs)), password, started: true };
    });
    logs.secrets.push(server.password);
    let version: string;
    try {
      version = await prepareDatabase(makeConfig(server.port, server.password, ADMIN_DB), database, logs);
    } catch (err) {
      if (!(err instanceof EmbeddedConnectError)) throw err;
      if (round < 3 && !(await runningPostmaster(dataDir))) continue;
      throw new Error(`${errMessage(err)}\n${path.join(dataDir, 'postmaster.pid')} names process ${server.pid} on port ${server.port}; if no PostgreSQL server is running there, delete that file and retry.`);
    }
    return {
      config: makeConfig(server.port, server.password, database),
      dataDir,
      version,
      started: server.started,
      stop: async () => void (await stopSharedServer(dataDir)),
    };
  }
}

/**
 * Stops the server on `dataDir` for every process using it (a fast shutdown: their sessions end, committed work is
 * kept). Returns the stopped server, or null when none was running.
 */
export async function stopSharedServer(dir: string): Promise<SharedServerState | null> {
  const dataDir = path.resolve(dir);
  const files = sharedServerFiles(dataDir);
  if (!existsSync(path.dirname(files.lock))) return null;
  return withFileLock(files.lock, START_TIMEOUT_MS * 2, async () => {
    const running = await runningPostmaster(dataDir);
    if (!running) return null;
    const gone = async (ms: number) => {
      for (const until = Date.now() + ms; processAlive(running.pid); await new Promise((r) => setTimeout(r, 100))) {
        if (Date.now() > until) return false;
      }
      return true;
    };
    signal(running.pid, 'SIGINT');
    // an immediate shutdown when a fast one hangs (it waits for the checkpoint); PostgreSQL recovers at the next start
    if (!(await gone(STOP_TIMEOUT_MS))) {
      signal(running.pid, 'SIGQUIT');
      if (!(await gone(10_000))) throw new Error(`the embedded PostgreSQL server (pid ${running.pid}) did not stop; stop it with kill ${running.pid}`);
    }
    return running;
  });
}

/** The port and pid of the last start, if recorded. */
export async function readServerState(dataDir: string): Promise<SharedServerState | null> {
  try {
    const s = JSON.parse(await fs.readFile(sharedServerFiles(dataDir).state, 'utf8')) as Partial<SharedServerState>;
    return Number.isInteger(s.port) && Number.isInteger(s.pid) ? { port: s.port!, pid: s.pid! } : null;
  } catch {
    return null;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* already gone */
  }
}

/** The superuser's password, initialising the cluster first when the directory holds none (under the lock). */
async function ensureCluster(dataDir: string, ids: OsIds | undefined, logs: LogTail): Promise<string> {
  const passwordFile = sharedServerFiles(dataDir).password;
  if (existsSync(path.join(dataDir, 'PG_VERSION'))) {
    const major = (await fs.readFile(path.join(dataDir, 'PG_VERSION'), 'utf8')).trim();
    if (major !== PG_MAJOR) {
      throw new Error(`${dataDir} holds a PostgreSQL ${major} cluster; partwise's embedded server is PostgreSQL ${PG_MAJOR}. Remove that directory or choose another one.`);
    }
    return readPasswordFile(passwordFile, dataDir);
  }
  const password = randomBytes(24).toString('base64url');
  logs.secrets.push(password);
  await writeSecretFile(passwordFile, password);
  await initialiseCluster(dataDir, password, ids, logs, true);
  return password;
}

type Attempt = { pid: number } | 'port taken' | 'still shutting down';

/**
 * Starts postgres in a session of its own (setsid) with its output in <dir>.log, on the recorded port when it is free,
 * and records port and pid. Under the lock.
 */
async function startDetached(dataDir: string, postgres: string, flags: string[], ids: OsIds | undefined, logs: LogTail): Promise<SharedServerState> {
  const until = Date.now() + START_TIMEOUT_MS;
  let port = (await readServerState(dataDir))?.port ?? (await freePort());
  for (let portTries = 1; ; ) {
    const attempt = await launch(dataDir, postgres, port, flags, ids, until, logs);
    if (typeof attempt === 'object') {
      const state = { port, pid: attempt.pid };
      const file = sharedServerFiles(dataDir).state;
      await writeSecretFile(`${file}.new`, JSON.stringify(state));
      await fs.rename(`${file}.new`, file);
      return state;
    }
    if (attempt === 'port taken' && portTries++ < 3) port = await freePort();
    else if (attempt === 'still shutting down' && Date.now() < until) await new Promise((r) => setTimeout(r, 500));
    else throw new Error(`The embedded PostgreSQL server did not start (${attempt === 'port taken' ? 'no free port' : 'the previous server on this directory is still shutting down'}).${await logTail(dataDir, logs)}`);
  }
}

async function launch(dataDir: string, postgres: string, port: number, flags: string[], ids: OsIds | undefined, until: number, logs: LogTail): Promise<Attempt> {
  const logFile = sharedServerFiles(dataDir).log;
  const out = await fs.open(logFile, 'w', 0o600);
  let exited = false;
  let child;
  try {
    child = spawn(postgres, ['-D', dataDir, '-p', String(port), ...flags], {
      detached: true,
      stdio: ['ignore', out.fd, out.fd],
      // nothing from the caller's environment (PGPASSWORD...) reaches the server; English log lines
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_MESSAGES: 'C' },
      ...(ids ?? {}),
    });
  } finally {
    await out.close();
  }
  child.on('exit', () => (exited = true));
  child.on('error', () => (exited = true));
  child.unref();
  for (;;) {
    if (exited) {
      const log = await fs.readFile(logFile, 'utf8').catch(() => '');
      if (/could not bind|address already in use/i.test(log)) return 'port taken';
      // the processes of a server killed with SIGKILL still attached to its shared memory, or its postmaster.pid
      if (/shared memory block .* is still in use|lock file .* already exists/i.test(log)) return 'still shutting down';
      throw new Error(`The embedded PostgreSQL server did not start.${await logTail(dataDir, logs)}`);
    }
    if (child.pid && (await postmasterReady(dataDir, child.pid))) return { pid: child.pid };
    if (Date.now() > until) {
      signal(child.pid ?? 0, 'SIGQUIT');
      throw new Error(`The embedded PostgreSQL server did not become ready within ${START_TIMEOUT_MS / 1000} s.${await logTail(dataDir, logs)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** postmaster.pid names this pid and says "ready" (its eighth line: starting, stopping, ready, standby). */
async function postmasterReady(dataDir: string, pid: number): Promise<boolean> {
  const lines = (await fs.readFile(path.join(dataDir, 'postmaster.pid'), 'utf8').catch(() => '')).split('\n');
  return Number.parseInt(lines[0] ?? '', 10) === pid && lines[7]?.trim() === 'ready';
}

async function logTail(dataDir: string, logs: LogTail): Promise<string> {
  const lines = (await fs.readFile(sharedServerFiles(dataDir).log, 'utf8').catch(() => '')).split('\n').filter(Boolean).slice(-15);
  return lines.length ? `\nLast server log lines (${sharedServerFiles(dataDir).log}):\n  ${lines.map((l) => logs.redact(l)).join('\n  ')}` : '';
}
