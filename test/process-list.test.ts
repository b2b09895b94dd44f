/**
 * The password of --url never shows in the process list: /proc/<pid>/cmdline (what ps reads) of a running partwise
 * shows it masked. The server here is a socket that accepts and never answers, so partwise stays in its connect.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { maskedArguments } from '../src/cli/processTitle.js';
import { BIN } from './helpers/cli.js';
import { cleanEnv } from './helpers/env.js';

const SECRET = 'S3cret-in-argv_%2F';

describe('the process list', () => {
  it('masks passwords in URLs and keyword pairs', () => {
    expect(maskedArguments(['--url', `postgres://bob:${SECRET}@db:5432/x?sslmode=require`, `--url=postgresql://bob:${SECRET}@db/x`, `host=db password=${SECRET} user=bob`]))
      .toEqual(['--url', 'postgres://bob:***@db:5432/x?sslmode=require', '--url=postgresql://bob:***@db/x', 'host=db password=*** user=bob']);
  });

  it.runIf(process.platform === 'linux')('a running partwise started with --url shows no password in /proc/<pid>/cmdline', async () => {
    const sockets: Socket[] = [];
    let connected!: () => void;
    const arrived = new Promise<void>((resolve) => (connected = resolve));
    const server = createServer((s) => {
      sockets.push(s);
      connected();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const child = spawn(process.execPath, [BIN, 'check', '--url', `postgres://bob:${SECRET}@127.0.0.1:${port}/db`], { env: cleanEnv({ NO_COLOR: '1' }), stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
    try {
      // partwise is running its own code: it is connecting to the silent server
      await arrived;
      const cmdline = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8');
      expect(cmdline).toContain('partwise check --url postgres://bob:***@127.0.0.1');
      expect(cmdline).not.toContain('S3cret');
    } finally {
      child.kill('SIGKILL');
      await exited;
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
