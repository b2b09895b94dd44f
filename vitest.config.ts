import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.{ts,tsx}', 'src/**/*.test.{ts,tsx}'],
    exclude: ['**/node_modules/**', 'dist/**'],
    // One real PostgreSQL per run (embedded unless TEST_DATABASE_URL is set).
    // Builds dist/ once, clears the shell's connection variables, starts the server (see the file).
    globalSetup: ['test/setup/globalSetup.ts'],
    // In every worker: no connection variables, TMPDIR in the run's directory.
    setupFiles: ['test/setup/workerEnv.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // Child processes, not threads: tests spawn the CLI and start servers.
    pool: 'forks',
    fileParallelism: true,
    // The CI machine has 2 cores; the server needs some of them too.
    maxWorkers: 2,
  },
});
