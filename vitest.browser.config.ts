import { defineConfig } from 'vitest/config';

// Suites that need a real browser: Debian's `chromium` (`apt-get install -y chromium`), driven by
// playwright-core. Kept out of `npm test` so a machine without Chromium can still run the rest.
export default defineConfig({
  test: {
    include: ['test/drill/report.test.ts', 'test/drill/gameday-report.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
