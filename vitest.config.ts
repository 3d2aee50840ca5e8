import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // test/drill/report.test.ts needs Chromium: `npm run test:browser` (vitest.browser.config.ts).
    // test/reliability: the quick in-memory suites run here too (the property test with 300 runs);
    // the long ones (*.long.test.ts) and those needing moto_server (*.moto.test.ts) run only in
    // `npm run test:reliability`.
    exclude: [
      'test/wire/**',
      // Real PostgreSQL and MariaDB servers: `npm run test:db` (vitest.db.config.ts).
      'test/db/**',
      'test/reliability/**/*.{long,moto}.test.ts',
      'test/drill/report.test.ts',
      'node_modules/**',
    ],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
