import pg from 'pg';
import { hasControl } from '../text/safe.js';

const code = (c: string) => c.codePointAt(0)!;
const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

/**
 * A value with control characters is written with escapes (E'…\x1b…') instead of the raw bytes, so the SQL partwise
 * shows (plan, SQL panes, errors) is exactly the SQL it runs and holds no character that could end a comment or drive
 * a terminal. (Identifiers stay plain quoted: to_regclass() and the other name parsers do not read U&"…".)
 */
function escapedLiteral(value: string): string {
  let out = '';
  for (const c of value) {
    if (c === '\\') out += '\\\\';
    else if (c === "'") out += "''";
    else if (hasControl(c)) out += code(c) < 0x80 ? `\\x${hex(code(c), 2)}` : `\\u${hex(code(c), 4)}`;
    else out += c;
  }
  return `E'${out}'`;
}

/** Every identifier and literal that reaches SQL goes through these. */
export const ident = (name: string): string => pg.escapeIdentifier(name);
export const lit = (value: string): string => (hasControl(value) ? escapedLiteral(value) : pg.escapeLiteral(value));
export const qname = (schema: string, name: string): string => `${ident(schema)}.${ident(name)}`;
/** A schema-qualified name as a regclass literal, e.g. for to_regclass() */
export const regclassLit = (schema: string, name: string): string => lit(qname(schema, name));
