/**
 * The archive's data file: COPY text, gzip-compressed (node:zlib), streamed both ways so memory stays bounded
 * whatever the partition's size. Written to PATH.partial, flushed to disk, then renamed: PATH is whole or absent.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, openSync, fsyncSync, closeSync, renameSync, statSync } from 'node:fs';
import { Transform, type Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import type pg from 'pg';
import { copyIn, copyOut } from '../db/copyStream.js';

/** Rows and bytes so far (bytes: of the compressed file, written or read), for progress. */
export interface TransferProgress {
  rows: number;
  bytes: number;
}

export interface WrittenFile {
  rows: number;
  bytes: number;
  uncompressedBytes: number;
  sha256: string;
}

/** Calls `report` at most every `ms` (and the caller reports the last state itself). */
export function throttled<T>(report: (v: T) => void, ms = 200): (v: T) => void {
  let last = 0;
  return (v) => {
    const now = Date.now();
    if (now - last >= ms) {
      last = now;
      report(v);
    }
  };
}

function syncFile(path: string): void {
  const fd = openSync(path, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** `copySql` (COPY ... TO STDOUT) into `path`, gzip-compressed. Runs on the caller's transaction and snapshot. */
export async function writeDataFile(client: pg.ClientBase, copySql: string, path: string, onProgress: (p: TransferProgress) => void): Promise<WrittenFile> {
  const partial = `${path}.partial`;
  const file = createWriteStream(partial, { mode: 0o600 });
  const gzip = createGzip();
  const hash = createHash('sha256');
  let bytes = 0;
  gzip.on('data', (c: Buffer) => {
    hash.update(c);
    bytes += c.length;
  });
  gzip.pipe(file);
  const failed = new Promise<never>((_, reject) => {
    file.on('error', reject);
    gzip.on('error', reject);
  });
  failed.catch(() => undefined);
  const report = throttled(onProgress);
  const out = await Promise.race([copyOut(client, copySql, gzip, (p) => report({ rows: p.rows, bytes })), failed]);
  gzip.end();
  await Promise.race([finished(file), failed]);
  syncFile(partial);
  renameSync(partial, path);
  onProgress({ rows: out.rows, bytes });
  return { rows: out.rows, bytes, uncompressedBytes: out.bytes, sha256: hash.digest('hex') };
}

/** Counts rows (lines: COPY text escapes newlines inside values) and measures what passes through. */
class Meter extends Transform {
  rows = 0;
  bytes = 0;
  constructor() {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null, d?: Buffer) => void): void {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) this.rows++;
    this.bytes += chunk.length;
    cb(null, chunk);
  }
}

export interface ReadBack {
  /** the decompressed COPY text, to feed COPY FROM STDIN or to drain */
  data: Readable;
  /** after `data` ended: what the file held */
  result(): { sha256: string; bytes: number; rows: number; uncompressedBytes: number };
}

/** Opens the data file for reading: SHA-256 of the compressed bytes, gunzip (a truncated or damaged gzip errors), rows counted. */
export function readDataFile(path: string, onProgress: (p: TransferProgress) => void): ReadBack {
  const hash = createHash('sha256');
  let bytes = 0;
  const raw = createReadStream(path);
  const meter = new Meter();
  const report = throttled(onProgress);
  raw.on('data', (c: Buffer | string) => {
    hash.update(c);
    bytes += c.length;
    report({ rows: meter.rows, bytes });
  });
  const gunzip = createGunzip();
  raw.on('error', (e) => meter.destroy(e));
  gunzip.on('error', (e) => meter.destroy(e));
  raw.pipe(gunzip).pipe(meter);
  return {
    data: meter,
    result: () => {
      onProgress({ rows: meter.rows, bytes });
      return { sha256: hash.digest('hex'), bytes, rows: meter.rows, uncompressedBytes: meter.bytes };
    },
  };
}

/** Reads the whole file without the database: its SHA-256, size, row count, and whether it decompresses. */
export async function scanDataFile(path: string, onProgress: (p: TransferProgress) => void = () => undefined): Promise<ReturnType<ReadBack['result']>> {
  const rb = readDataFile(path, onProgress);
  rb.data.resume();
  await finished(rb.data);
  return rb.result();
}

/** Loads the data file into `table` (quoted) with COPY FROM STDIN on the caller's transaction. */
export async function loadDataFile(client: pg.ClientBase, path: string, table: string, columns: string, onProgress: (p: TransferProgress) => void): Promise<ReturnType<ReadBack['result']>> {
  const rb = readDataFile(path, onProgress);
  await copyIn(client, `COPY ${table} (${columns}) FROM STDIN`, rb.data);
  return rb.result();
}

export const fileSize = (path: string): number => statSync(path).size;
