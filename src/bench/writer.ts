/**
 * The concurrent writer: pgbench with a custom script (sql/bench/writer.pgbench) at a fixed rate (-R), logging
 * every transaction (--log). pgbench runs in chunks of a fixed duration so that every log is complete (a pgbench
 * stopped by a signal loses its buffered log); the gap between chunks is a new connection, a few milliseconds.
 * Latency is pgbench's: measured from the transaction's scheduled start, so a write queued behind a lock counts
 * its whole wait.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { packageRoot, sqlFile } from '../sqlFiles.js';

export interface WriterTransaction {
  /** pgbench's client number and the transaction's number within that client (0: the connection's first) */
  client: number;
  seq: number;
  /** epoch milliseconds when it ended */
  endMs: number;
  latencyMs: number;
  failed: boolean;
}

export interface WriterChunk {
  transactions: WriterTransaction[];
  /** failed transactions and aborted clients pgbench reported */
  errors: number;
  /** pgbench's complaints, for the report (never more than a few lines) */
  messages: string[];
}

export interface WriterOptions {
  env: NodeJS.ProcessEnv;
  rate: number;
  ids: number;
  programs: number;
  clients?: number;
  pgbench?: string;
}

export const PGBENCH = process.env.PGBENCH ?? '/usr/bin/pgbench';

/** Loads the keys the writer picks from (sql/bench/writer_setup.sql). */
export function writerSetupSql(): string {
  return sqlFile('bench/writer_setup.sql');
}

/** One pgbench run of `seconds`; resolves when it has exited and its logs are read. */
export async function runWriterChunk(o: WriterOptions, seconds: number): Promise<WriterChunk> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'partwise-bench-'));
  try {
    const clients = o.clients ?? 4;
    const args = [
      '-n', '-f', path.join(packageRoot(), 'sql', 'bench', 'writer.pgbench'), '-R', String(o.rate), '-T', String(seconds),
      '-c', String(clients), '-j', String(Math.min(2, clients)), '-D', `ids=${o.ids}`, '-D', `programs=${o.programs}`,
      '--log', '--log-prefix', path.join(dir, 'tx'),
      // an application retries serialization failures: on a partitioned table a key-changing update moves the row
      // to another partition, and a concurrent update or delete of the same row then fails with 40001 instead of
      // waiting (PostgreSQL behaviour, not partwise's); retries are reported, failures after 5 tries count
      '--max-tries', '5',
    ];
    const { code, stdout, stderr } = await run(o.pgbench ?? PGBENCH, args, o.env);
    const transactions: WriterTransaction[] = [];
    for (const f of await readdir(dir)) transactions.push(...parseLog(await readFile(path.join(dir, f), 'utf8')));
    const failedLine = /number of failed transactions: (\d+)/.exec(stdout);
    const aborted = (stderr.match(/aborted/g) ?? []).length;
    const failed = failedLine ? Number(failedLine[1]) : transactions.filter((t) => t.failed).length;
    const messages = stderr.split('\n').filter((l) => /error|abort|fatal/i.test(l)).slice(0, 5);
    const retried = /number of transactions retried: (\d+)/.exec(stdout);
    if (retried && Number(retried[1]) > 0) messages.push(`${retried[1]} transaction(s) retried after a serialization failure or deadlock`);
    if (code !== 0 && messages.length === 0) messages.push(`pgbench exited with code ${code}: ${stderr.trim().split('\n').slice(-2).join(' ')}`);
    return { transactions, errors: failed + aborted + (code !== 0 && failed + aborted === 0 ? 1 : 0), messages };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A writer that keeps running chunks until stop() is called; the last chunk runs to its end. */
export function startWriter(o: WriterOptions, chunkSeconds: number): { stop(): Promise<WriterChunk> } {
  let stopped = false;
  const all: WriterChunk = { transactions: [], errors: 0, messages: [] };
  const loop = (async () => {
    while (!stopped) {
      const c = await runWriterChunk(o, chunkSeconds);
      all.transactions.push(...c.transactions);
      all.errors += c.errors;
      all.messages.push(...c.messages);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return all;
    },
  };
}

/**
 * pgbench's per-transaction log: `client_id transaction_no time script_no time_epoch time_us [schedule_lag] ...`,
 * time in microseconds, or `failed` / `serialization` / `deadlock` for a failed transaction.
 */
export function parseLog(text: string): WriterTransaction[] {
  const out: WriterTransaction[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 6) continue;
    const endMs = Number(f[4]) * 1000 + Number(f[5]) / 1000;
    const failed = !/^\d+$/.test(f[2]!);
    out.push({ client: Number(f[0]), seq: Number(f[1]), endMs, latencyMs: failed ? 0 : Number(f[2]) / 1000, failed });
  }
  return out;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (e) => reject(new Error(`could not run ${cmd}: ${e.message} (install pgbench, or point PGBENCH at it)`)));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
