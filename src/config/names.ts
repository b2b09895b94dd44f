import { createHash } from 'node:crypto';
import type { Config } from './config.js';

/** PostgreSQL truncates identifiers at NAMEDATALEN-1 = 63 bytes; we never let it do so silently. */
export const MAX_IDENT_BYTES = 63;

export function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** Cuts a string to at most n UTF-8 bytes without splitting a character. */
function cutBytes(s: string, n: number): string {
  let out = '';
  for (const ch of s) {
    if (byteLength(out + ch) > n) break;
    out += ch;
  }
  return out;
}

/**
 * Deterministic shortening: names that fit are kept; longer ones are cut and suffixed with a hash of the
 * full name, so two different long names can never shorten to the same identifier.
 */
export function fitIdentifier(name: string): string {
  if (byteLength(name) <= MAX_IDENT_BYTES) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 10);
  return `${cutBytes(name, MAX_IDENT_BYTES - hash.length - 1)}_${hash}`;
}

/** Key text with every non-alphanumeric replaced by `_` (as documented for --partition-name). */
export function keySlug(keyText: string): string {
  return keyText.replace(/[^A-Za-z0-9]/g, '_');
}

/**
 * The partition name for one key value. The slug alone is not injective ('a-b' and 'a_b' both give 'a_b'),
 * so when the slug changed the key text, a short hash of the exact key text is appended.
 */
export function partitionName(cfg: Pick<Config, 'partitionName'>, keyText: string): string {
  const slug = keySlug(keyText);
  let name = cfg.partitionName.split('{key}').join(slug);
  if (slug !== keyText && !/^[0-9a-fA-F-]{36}$/.test(keyText)) {
    // uuids only lose dashes, which cannot collide between two valid uuids
    name += '_' + createHash('sha256').update(keyText).digest('hex').slice(0, 6);
  }
  return fitIdentifier(name);
}

/** Names of objects partwise creates, derived from the new table's name. */
export function derivedName(base: string, suffix: string): string {
  return fitIdentifier(`${base}_${suffix}`);
}

/** Rejects user-given names that would not survive as identifiers. */
export function checkGivenName(label: string, name: string): string | null {
  if (byteLength(name) > MAX_IDENT_BYTES)
    return `${label} "${name}" is ${byteLength(name)} bytes; PostgreSQL identifiers are at most ${MAX_IDENT_BYTES} bytes. Choose a shorter name.`;
  if (name.includes('\0')) return `${label} contains a NUL byte`;
  return null;
}
