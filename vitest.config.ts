import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // test/drill/report.test.ts needs Chromium: `npm run test:browser` (vitest.browser.config.ts).
    exclude: ['test/wire/**', 'test/reliability/**', 'test/drill/report.test.ts', 'node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
