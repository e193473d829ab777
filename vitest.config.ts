import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Fails any test file whose output shows a test credential or token (issue 3).
    setupFiles: ['test/support/secretLeakGuard.ts'],
    // Integration tests start real local servers; give them room on a 2-core machine.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    env: {
      // The handlers' structured logs would drown the test report; tests that check logs inject their own logger.
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      // Likewise the EMF metric lines; test/unit/report/emitJobMetrics.test.ts reads them from its own instance.
      POWERTOOLS_METRICS_DISABLED: 'true',
    },
  },
});
