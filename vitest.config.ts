import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // A private TMPDIR for the whole run, removed at the end (first, so everything after uses it);
    // a real PostgreSQL server for the shared-store tests (test/helpers/postgres.ts).
    globalSetup: ['test/global-tmpdir.ts', 'test/global-postgres.ts'],
    // Integration tests start real servers and child processes; two cores, so keep it modest.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
