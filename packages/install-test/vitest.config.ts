import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/install/**'],
    globalSetup: [require.resolve('@keystrata/testing/global-setup-services')],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
