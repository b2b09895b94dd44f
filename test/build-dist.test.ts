/**
 * globalSetup's build of dist/ (test/setup/buildDist.ts), on a small project of its own: a compile error fails it
 * (the CLI tests must never run stale code), and it compiles only when a source changed.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDist } from './setup/buildDist.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

describe('building dist/ for the test run', () => {
  let project = '';
  // made here, not in the describe body: that runs even when a name filter skips these tests (and afterAll does not)
  beforeAll(() => {
    project = mkdtempSync(join(tmpdir(), 'pw-build-'));
    mkdirSync(join(project, 'src'));
    symlinkSync(join(ROOT, 'node_modules'), join(project, 'node_modules'));
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', skipLibCheck: true, types: [] } }));
    writeFileSync(join(project, 'tsconfig.build.json'), JSON.stringify({ extends: './tsconfig.json', compilerOptions: { rootDir: 'src', outDir: 'dist' }, include: ['src'] }));
  });
  afterAll(() => rmSync(project, { recursive: true, force: true }));
  const source = (text: string) => writeFileSync(join(project, 'src', 'main.ts'), text);

  it('a compile error fails with the compiler output', async () => {
    source(`export const n: number = 'not a number';\n`);
    await expect(buildDist(project)).rejects.toThrow(/building dist\/ failed[\s\S]*src\/main\.ts.*TS2322/);
    // and the next run tries again rather than trusting what tsc emitted anyway
    await expect(buildDist(project)).rejects.toThrow(/building dist\/ failed/);
  });

  it('compiles after a change, and not again while nothing changed', async () => {
    source(`export const n: number = 1;\n`);
    expect(await buildDist(project)).toBe('built');
    expect(readFileSync(join(project, 'dist', 'main.js'), 'utf8')).toContain('n = 1');
    expect(await buildDist(project)).toBe('up to date');
    source(`export const n: number = 2;\n`);
    expect(await buildDist(project)).toBe('built');
    expect(readFileSync(join(project, 'dist', 'main.js'), 'utf8')).toContain('n = 2');
    expect(existsSync(join(project, 'dist.build-lock'))).toBe(false);
  });
});
