/**
 * check's advice for migrate --workers: how many copy workers the server can take. Each worker is one session that
 * keeps one core busy (a batch is one INSERT … SELECT), so the server's CPUs bound it; its sessions come out of
 * max_connections beside the application's; and max_worker_processes is what the server was sized for in background
 * work (parallel query takes its workers from it, and a DBA who set it below the cores meant to leave them free).
 */
import type pg from 'pg';
import type { CheckItem } from '../events.js';

export interface WorkerFacts {
  /** the server's CPUs, null when the server does not let partwise read them */
  cpus: number | null;
  /** where cpus came from (a file on the server) */
  cpuSource: string | null;
  maxWorkerProcesses: number;
  maxConnections: number;
  /** sessions connected now plus the superuser-reserved ones */
  connectionsTaken: number;
}

/** Sessions of partwise besides the workers: its own, the run lease's heartbeat and the latency guard's probe. */
const OWN_SESSIONS = 3;
/** Connections left free for the application whatever the count suggests. */
const SPARE_CONNECTIONS = 5;

/** The suggested worker count and the check item (pure). `configured`: the config's workers. */
export function workerAdvice(f: WorkerFacts, configured: number): { suggested: number; item: CheckItem } {
  const headroom = Math.max(1, f.maxConnections - f.connectionsTaken - OWN_SESSIONS - SPARE_CONNECTIONS);
  const suggested = Math.max(1, Math.min(f.cpus ?? f.maxWorkerProcesses, f.maxWorkerProcesses, headroom));
  const cpus = f.cpus === null ? 'CPUs unknown (the server does not let this role read them)' : `${f.cpus} CPU(s) (${f.cpuSource})`;
  const basis = `${cpus}, max_worker_processes ${f.maxWorkerProcesses}, max_connections ${f.maxConnections} with ${f.connectionsTaken} taken`;
  const title = 'Copy workers (migrate --workers)';
  if (f.cpus !== null && configured > f.cpus)
    return {
      suggested,
      item: {
        id: 'copy-workers', status: 'warn', title,
        reason: `${configured} workers configured, more than the server's ${f.cpus} CPU(s): they would compete for the cores with each other and with the application (${basis})`,
        todo: `set workers (or migrate --workers) to ${suggested} or fewer`,
      },
    };
  return { suggested, item: { id: 'copy-workers', status: 'ok', title, reason: `migrate --workers ${suggested} suggested: ${basis}; ${configured} configured` } };
}

/** The server's CPUs: the cgroup's quota when one is set, else the processors in /proc/cpuinfo; null when unreadable. */
async function serverCpus(client: pg.ClientBase): Promise<{ cpus: number; source: string } | null> {
  // pg_read_file needs superuser or pg_read_server_files; a refusal (or another OS) leaves the count unknown
  const read = async (path: string): Promise<string | null> => {
    try {
      return (await client.query<{ t: string | null }>(`SELECT pg_catalog.pg_read_file($1, 0, 1048576, true) AS t`, [path])).rows[0]?.t ?? null;
    } catch {
      return null;
    }
  };
  const info = await read('/proc/cpuinfo');
  const processors = info ? info.split('\n').filter((l) => /^processor\s*:/.test(l)).length : 0;
  const quota = (await read('/sys/fs/cgroup/cpu.max'))?.trim().split(/\s+/);
  const limit = quota && quota[0] !== 'max' && Number(quota[1]) > 0 ? Math.max(1, Math.floor(Number(quota[0]) / Number(quota[1]))) : null;
  if (limit !== null && (processors === 0 || limit < processors)) return { cpus: limit, source: 'the cgroup quota, /sys/fs/cgroup/cpu.max' };
  return processors > 0 ? { cpus: processors, source: '/proc/cpuinfo' } : null;
}

export async function readWorkerFacts(client: pg.ClientBase): Promise<WorkerFacts> {
  const cpus = await serverCpus(client);
  const s = (await client.query<{ mwp: number; mc: number; taken: number }>(
    `SELECT current_setting('max_worker_processes')::int AS mwp, current_setting('max_connections')::int AS mc,
            (SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE backend_type = 'client backend')::int
              + current_setting('superuser_reserved_connections')::int AS taken`,
  )).rows[0]!;
  return { cpus: cpus?.cpus ?? null, cpuSource: cpus?.source ?? null, maxWorkerProcesses: s.mwp, maxConnections: s.mc, connectionsTaken: s.taken };
}
