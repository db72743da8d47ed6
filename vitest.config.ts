import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/support/setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Two files at a time whatever the core count (vitest's default on 2 cores is one):
    // most files spend their time waiting on child processes, sockets and fsync.
    maxWorkers: 2,
  },
});
