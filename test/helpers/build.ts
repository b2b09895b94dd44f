import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Compiles src/ to dist/ so bin/partwise runs the current code (tsc emits even when another file has type errors). */
export async function buildDist(): Promise<void> {
  await new Promise<void>((resolve) => execFile('npm', ['run', 'build'], { cwd: ROOT }, () => resolve()));
  if (!existsSync(`${ROOT}/dist/steps/migrate.js`)) throw new Error('npm run build did not produce dist/steps/migrate.js');
}
