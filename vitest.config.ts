import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration tests start real sandboxes, brokers and chDB; two cores do not like many at once.
    fileParallelism: true,
    maxWorkers: 2,
    reporters: ['default'],
  },
});
