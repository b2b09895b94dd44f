/**
 * COPY ... TO STDOUT and COPY ... FROM STDIN through node-postgres without pg-copy-streams: a "submittable" (the
 * documented extension point of client.query, the one pg-cursor uses) that speaks the copy sub-protocol. Memory
 * stays bounded: on COPY OUT the socket is paused while the sink is full; on COPY IN the source is read only as fast
 * as the socket drains. A server error ends the promise with the server's error (code, message, hint intact).
 */
import type pg from 'pg';
import type { Readable, Writable } from 'node:stream';

/** The parts of pg's Connection a copy needs (lib/connection.js). */
interface CopyConnection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
  sendCopyFail(message: string): void;
  stream: NodeJS.ReadableStream & NodeJS.WritableStream & { writableNeedDrain?: boolean };
}

/** One row per CopyData message on COPY OUT (PostgreSQL sends each row as its own message). */
export interface CopyOutProgress {
  rows: number;
  bytes: number;
}

abstract class CopySubmittable {
  protected error: Error | null = null;
  private settle!: { resolve: () => void; reject: (e: Error) => void };
  readonly done: Promise<void>;
  constructor(readonly text: string) {
    this.done = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    // the caller awaits `done`; an unhandled rejection before it does must not crash the process
    this.done.catch(() => undefined);
  }
  submit(connection: CopyConnection): void {
    connection.query(this.text);
  }
  /**
   * node-postgres forgets the active query when the server reports an error (Client#_handleErrorMessage), so
   * handleReadyForQuery never comes after one: the copy ends here. The client still waits for ReadyForQuery before it
   * sends the next query.
   */
  handleError(err: Error): void {
    this.error ??= err;
    this.end();
  }
  handleCommandComplete(): void {}
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyInResponse(connection: CopyConnection): void {
    connection.sendCopyFail('partwise: unexpected COPY FROM STDIN');
  }
  handleCopyData(_msg: { chunk: Buffer }, _connection: CopyConnection): void {}
  handleReadyForQuery(): void {
    this.end();
  }
  protected end(): void {
    if (this.error) this.settle.reject(this.error);
    else this.settle.resolve();
  }
}

class CopyOut extends CopySubmittable {
  readonly progress: CopyOutProgress = { rows: 0, bytes: 0 };
  constructor(text: string, private readonly sink: Writable, private readonly onRow: (p: CopyOutProgress) => void) {
    super(text);
  }
  private paused: { connection: CopyConnection; resume: () => void } | null = null;
  override handleCopyData(msg: { chunk: Buffer }, connection: CopyConnection): void {
    this.progress.rows++;
    this.progress.bytes += msg.chunk.length;
    // a copy: the message is a view into the driver's receive buffer, which it reuses for the next bytes from the
    // socket while the sink may still hold this chunk (seen as NUL bytes in the file under load)
    if (!this.sink.write(Buffer.from(msg.chunk)) && !this.paused) {
      // the sink (gzip, then the file) is full: stop reading the socket until it drains (messages already received
      // are still handled: the sink buffers them)
      const resume = () => {
        this.paused = null;
        connection.stream.resume();
      };
      this.paused = { connection, resume };
      connection.stream.pause();
      this.sink.once('drain', resume);
    }
    this.onRow(this.progress);
  }
  protected override end(): void {
    // the copy is over: the session's socket must read again whatever the sink does next (a sink that is ended
    // never drains)
    if (this.paused) {
      this.sink.off('drain', this.paused.resume);
      this.paused.resume();
    }
    super.end();
  }
}

class CopyIn extends CopySubmittable {
  constructor(text: string, private readonly source: Readable, private readonly onChunk: (bytes: number) => void) {
    super(text);
  }
  override handleCopyInResponse(connection: CopyConnection): void {
    void (async () => {
      try {
        for await (const chunk of this.source) {
          connection.sendCopyFromChunk(chunk as Buffer);
          this.onChunk((chunk as Buffer).length);
          if (connection.stream.writableNeedDrain) await new Promise((r) => connection.stream.once('drain', r));
        }
        connection.endCopyFrom();
      } catch (e) {
        // the server answers CopyFail with an error, then ReadyForQuery: the statement fails and nothing of it stays
        this.error ??= e as Error;
        connection.sendCopyFail(`partwise: ${(e as Error).message}`);
      }
    })();
  }
}

/**
 * Runs `COPY ... TO STDOUT` (text format) and writes every row to `sink` (not ended here). onRow is called per row
 * with the running totals (cheap: callers throttle what they report).
 */
export async function copyOut(client: pg.ClientBase, sql: string, sink: Writable, onRow: (p: CopyOutProgress) => void = () => undefined): Promise<CopyOutProgress> {
  const q = new CopyOut(sql, sink, onRow);
  client.query(q as unknown as pg.QueryConfig);
  await q.done;
  return q.progress;
}

/** Runs `COPY ... FROM STDIN` fed from `source`; onChunk gets each chunk's size as it is sent. */
export async function copyIn(client: pg.ClientBase, sql: string, source: Readable, onChunk: (bytes: number) => void = () => undefined): Promise<void> {
  const q = new CopyIn(sql, source, onChunk);
  client.query(q as unknown as pg.QueryConfig);
  await q.done;
}
