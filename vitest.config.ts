import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/helpers/signature-engine-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests start real processes (chain node, servers, openssl); two cores.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
