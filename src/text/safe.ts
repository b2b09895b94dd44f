/**
 * Database strings (labels, keys, names, server messages, blockers' queries) are hostile input: a label may carry an
 * escape sequence that repaints the terminal, or a newline that ends a SQL comment and turns the rest of the label
 * into a statement. Everything partwise prints passes through one of these.
 *
 * The visible form is the one of C and JavaScript string escapes: `\n`, `\r`, `\t`, `\xHH` for the other C0
 * characters, DEL and C1, `\uHHHH` for the Unicode line separators and bidirectional overrides (they reorder or
 * break what the terminal shows). In one-line text a backslash is shown as `\\`, so an escape in the output always
 * means the character, never the same letters typed into a label.
 */

/** C0, DEL, C1, the line / paragraph separators and the bidirectional embeddings, overrides and isolates. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const UNSAFE_G = new RegExp(UNSAFE.source, 'g');
const ONE_LINE_G = /[\\\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const IN_BLOCK_G = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const NON_ASCII_UNSAFE_G = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\\': '\\\\' };

const hex = (c: string, width: number) => c.charCodeAt(0).toString(16).padStart(width, '0');

function escapeChar(c: string): string {
  const named = NAMED[c];
  if (named) return named;
  return c.charCodeAt(0) <= 0xff ? `\\x${hex(c, 2)}` : `\\u${hex(c, 4)}`;
}

/** True when the text holds a character that `shown` would escape (other than a backslash). */
export function hasControl(text: string): boolean {
  return UNSAFE.test(text);
}

/** True when `shownBlock` would change the text (a control character other than a line break or a tab). */
export function hasControlInBlock(text: string): boolean {
  return new RegExp(IN_BLOCK_G.source).test(text);
}

/** One line for a terminal or a SQL `--` comment: no character in the result can move the cursor or end the line. */
export function shown(text: string): string {
  return text.replace(ONE_LINE_G, escapeChar);
}

/** A SQL `--` comment line whose text nothing can end early. */
export function sqlComment(text: string): string {
  return `-- ${shown(text)}`;
}

/**
 * Multi-line text that is read as it is (a SQL script, a statement): line breaks and tabs stay, every other control
 * character is escaped. Backslashes stay too, since they are part of the SQL shown.
 */
export function shownBlock(text: string): string {
  return text.replace(IN_BLOCK_G, escapeChar);
}

/**
 * A JSON text safe on a terminal: JSON.stringify already escapes C0; this escapes DEL, C1 and the other characters
 * above as \u sequences, which JSON readers turn back into the same string.
 */
export function safeJson(json: string): string {
  return json.replace(NON_ASCII_UNSAFE_G, (c) => `\\u${hex(c, 4)}`);
}

/** A copy of plain data (objects, arrays) with every string passed through `fn`; other values (dates, numbers) kept. */
export function mapStrings<T>(value: T, fn: (s: string) => string): T {
  if (typeof value === 'string') return fn(value) as T;
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, fn)) as T;
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, fn)])) as T;
  }
  return value;
}
