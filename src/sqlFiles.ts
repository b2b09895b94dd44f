import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: found by walking up from this module (src/ when run from source, dist/ when compiled). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'sql'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('partwise: cannot find its package root (sql/ folder missing)');
}

const cache = new Map<string, string>();

/** Reads one reviewable SQL file from sql/, e.g. sqlFile('catalog/columns.sql'). */
export function sqlFile(rel: string): string {
  let text = cache.get(rel);
  if (text === undefined) {
    text = readFileSync(join(packageRoot(), 'sql', rel), 'utf8');
    cache.set(rel, text);
  }
  return text;
}

/**
 * An SQL file with its {{placeholders}} filled, for the parts that cannot be parameters (names). Every value must
 * already be quoted (ident/lit/qname); one pass, so a substituted value is never read as another placeholder.
 */
export function sqlTemplate(rel: string, values: Record<string, string>): string {
  return sqlFile(rel).replace(/\{\{(\w+)\}\}/g, (_, k: string) => {
    const v = values[k];
    if (v === undefined) throw new Error(`sql/${rel}: no value for {{${k}}}`);
    return v;
  });
}
