import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests start real local servers; give them room on a 2-core machine.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    env: {
      // The handlers' structured logs would drown the test report; tests that check logs inject their own logger.
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    },
  },
});
