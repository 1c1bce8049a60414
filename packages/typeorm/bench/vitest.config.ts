import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

/** `pnpm --filter @keystrata/typeorm bench`: runs bench/find.ts (not part of `test`). */
export default defineConfig({
  test: {
    include: ['bench/find.ts'],
    globalSetup: [require.resolve('@keystrata/testing/global-setup-services')],
    testTimeout: 600_000,
    hookTimeout: 120_000,
  },
});
