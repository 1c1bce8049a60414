import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

// `pnpm bench`: measurements, not tests. They print and write bench/results/*.json; nothing is asserted on time.
export default defineConfig({
  test: {
    include: ['bench/**/*.bench.ts'],
    globalSetup: [require.resolve('@keystrata/testing/global-setup-services')],
    testTimeout: 600_000,
    hookTimeout: 60_000,
  },
});
