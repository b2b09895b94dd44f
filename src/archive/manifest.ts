/**
 * An archive is two files: PATH, the program's rows as COPY text, gzip-compressed, and PATH.manifest.json, what they
 * are. The manifest carries the data file's SHA-256 and size (a damaged file is refused before anything is read into
 * the database), the row count and the server's checksum of the rows (the load is checked against them), and a
 * SHA-256 of its own content (an edited manifest is refused too).
 */
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { z } from 'zod';
import { packageRoot } from '../sqlFiles.js';
import { join } from 'node:path';

export const MANIFEST_FORMAT = 'partwise-archive/1';

const ManifestBody = z.object({
  format: z.literal(MANIFEST_FORMAT),
  table: z.object({ schema: z.string(), name: z.string() }),
  key: z.object({ column: z.string(), type: z.string(), value: z.string() }),
  label: z.string().nullable(),
  partition: z.string(),
  /** the stored columns the file holds, in its order (generated columns are recomputed by the table) */
  columns: z.array(z.object({ name: z.string(), type: z.string() })),
  rows: z.number().int().nonnegative(),
  /** sum of hash_record_extended of every row, as numeric text (src/archive/checksum.ts) */
  checksum: z.string().regex(/^-?[0-9]+$/),
  data: z.object({ file: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: z.number().int().nonnegative(), uncompressedBytes: z.number().int().nonnegative() }),
  partwiseVersion: z.string(),
  server: z.object({ version: z.string(), versionNum: z.number().int() }),
  createdAt: z.string(),
});

export type ManifestBody = z.infer<typeof ManifestBody>;
export type Manifest = ManifestBody & { manifestSha256: string };

export const manifestPath = (dataPath: string) => `${dataPath}.manifest.json`;

/** The SHA-256 of the manifest's fields, over a canonical JSON (sorted keys), so key order does not matter. */
function bodyHash(body: ManifestBody): string {
  const canonical = (v: unknown): unknown =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]))
      : Array.isArray(v) ? v.map(canonical) : v;
  return createHash('sha256').update(JSON.stringify(canonical(body))).digest('hex');
}

/** Written beside the data file, through a temporary name and a rename: a manifest is either whole or absent. */
export function writeManifest(dataPath: string, body: ManifestBody): Manifest {
  const m: Manifest = { ...body, manifestSha256: bodyHash(body) };
  const path = manifestPath(dataPath);
  writeFileSync(`${path}.partial`, JSON.stringify(m, null, 2) + '\n', { mode: 0o600 });
  renameSync(`${path}.partial`, path);
  return m;
}

/** The manifest of an archive, or why it cannot be trusted (missing, not JSON, fields missing, edited). */
export function readManifest(dataPath: string): Manifest | string {
  const path = manifestPath(dataPath);
  if (!existsSync(path)) return `${path} does not exist (an archive is PATH and PATH.manifest.json)`;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    return `${path} is not valid JSON (${(e as Error).message})`;
  }
  const sha = (raw as { manifestSha256?: unknown })?.manifestSha256;
  const parsed = ManifestBody.safeParse(raw);
  if (!parsed.success) return `${path} is not a partwise archive manifest: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`;
  if (typeof sha !== 'string') return `${path} has no manifestSha256`;
  if (bodyHash(parsed.data) !== sha) return `${path} was changed after partwise wrote it (its manifestSha256 does not match its content)`;
  return { ...parsed.data, manifestSha256: sha };
}

/** Where the app's archive of a partition goes: the current directory, the partition's name and the time. */
export function defaultArchivePath(partition: string, at: Date): string {
  const stamp = at.toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-');
  return join(process.cwd(), `${partition}-${stamp}.copy.gz`);
}

export function partwiseVersion(): string {
  try {
    return JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')).version as string;
  } catch {
    return 'unknown';
  }
}
