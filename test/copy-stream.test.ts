/**
 * COPY through node-postgres without pg-copy-streams (src/db/copyStream.ts), on the real server: rows arrive intact
 * into a slow sink (the driver reuses its receive buffer), COPY FROM STDIN loads a stream, and a server error ends the
 * copy with the server's error instead of leaving it waiting.
 */
import { Readable, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyIn, copyOut } from '../src/db/copyStream.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { connect } from './helpers/moveSetup.js';
import type pg from 'pg';

describe('COPY streams', () => {
  let db: TestDatabase;
  let c: pg.Client;
  beforeAll(async () => {
    db = await createTestDatabase('copy_stream');
    c = await connect(db.config);
  });
  afterAll(async () => {
    await c?.end();
    await db?.drop();
  });

  it('COPY TO STDOUT into a slow sink: every row intact, in order', async () => {
    const parts: Buffer[] = [];
    // a sink that takes a chunk now and then: the socket is paused and messages already received wait in it
    const slow = new Writable({
      highWaterMark: 1024,
      write(chunk: Buffer, _enc, cb) {
        parts.push(chunk);
        setImmediate(cb);
      },
    });
    const sql = `COPY (SELECT g, repeat(md5(g::text), 8) FROM generate_series(1, 20000) g) TO STDOUT`;
    const p = await copyOut(c, sql, slow);
    expect(p.rows).toBe(20000);
    await new Promise<void>((r) => slow.end(r));
    const expected = (await c.query(`SELECT string_agg(g || E'\\t' || repeat(md5(g::text), 8), E'\\n' ORDER BY g) || E'\\n' AS t FROM generate_series(1, 20000) g`)).rows[0].t as string;
    expect(Buffer.concat(parts).toString('utf8') === expected).toBe(true);
    expect((await c.query('SELECT 1 AS one')).rows[0].one).toBe(1);
  });

  it('COPY FROM STDIN from a stream, and a server error rejects with the server\'s words', async () => {
    await c.query(`CREATE TABLE t (id int, v text)`);
    const lines = Array.from({ length: 5000 }, (_, i) => `${i}\tv${i}\n`);
    await copyIn(c, `COPY t (id, v) FROM STDIN`, Readable.from(lines.map((l) => Buffer.from(l))));
    expect((await c.query(`SELECT count(*)::int AS n, sum(id)::int8::text AS s FROM t`)).rows[0]).toEqual({ n: 5000, s: String((4999 * 5000) / 2) });
    const bad = copyIn(c, `COPY t (id, v) FROM STDIN`, Readable.from([Buffer.from('1\tok\nnot a number\tx\n')]));
    await expect(bad).rejects.toMatchObject({ code: '22P02' });
    await expect(copyOut(c, `COPY no_such_table TO STDOUT`, new Writable({ write: (_c, _e, cb) => cb() }))).rejects.toMatchObject({ code: '42P01' });
    // the session goes on
    expect((await c.query(`SELECT count(*)::int AS n FROM t`)).rows[0].n).toBe(5000);
  });
});
