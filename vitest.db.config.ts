import { defineConfig } from 'vitest/config';

// Suites against real PostgreSQL 15 and MariaDB servers started on 127.0.0.1 by the fixtures in
// test/support/realdb/ (`apt-get install -y postgresql mariadb-server`; .ci/run installs them).
// One file at a time: each starts its own servers, and the machine is small.
export default defineConfig({
  test: {
    include: ['test/db/**/*.test.ts'],
    globalSetup: ['test/support/realdb/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
