import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

/** `pnpm --filter @keystrata/prisma bench`: runs bench/find-many.ts (not part of `test`). */
export default defineConfig({
  test: {
    include: ['bench/find-many.ts'],
    globalSetup: ['./test/support/global-generate.ts', require.resolve('@keystrata/testing/global-setup-services')],
    testTimeout: 600_000,
    hookTimeout: 120_000,
  },
});
