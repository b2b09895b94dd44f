import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A new temporary directory (in the run's own, see test/setup/globalSetup.ts) that the postgres OS user can pass
 * through: as root the embedded server runs as that user. Make it in a test or a beforeAll (a describe body runs even
 * when its tests are filtered out, and its afterAll then does not), and remove it.
 */
export function serverTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  return dir;
}
