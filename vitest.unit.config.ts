import { defineConfig } from 'vitest/config';

/**
 * The unit tests only (`npm run test:unit`, and Stryker's runs: `npm run mutation`):
 * no globalSetup, no sandbox, no broker. Integration and end-to-end tests need
 * bubblewrap and Kafka and never run under Stryker.
 */
export default defineConfig({
  test: {
    include: ['src/**/*.unit.test.ts'],
    testTimeout: 60_000,
    reporters: ['default'],
  },
});
