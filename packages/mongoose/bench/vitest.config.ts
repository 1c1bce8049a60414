import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

/** `pnpm --filter @keystrata/mongoose bench`: runs bench/find-lean.ts (not part of `test`). */
export default defineConfig({
  test: {
    include: ['bench/find-lean.ts'],
    globalSetup: [require.resolve('@keystrata/testing/global-setup-services'), require.resolve('@keystrata/testing/global-setup-ferretdb')],
    testTimeout: 600_000,
    hookTimeout: 120_000,
  },
});
