import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

// The install-as-a-user test (issue 13 §2): npm installs from packed tarballs, minutes not seconds.
// Run by .ci/run (`pnpm --filter @keystrata/install-test test:install`), not by `pnpm test`.
export default defineConfig({
  test: {
    include: ['test/install/**/*.test.ts'],
    globalSetup: [require.resolve('@keystrata/testing/global-setup-services'), require.resolve('@keystrata/testing/global-setup-ferretdb')],
    testTimeout: 180_000,
    hookTimeout: 900_000,
  },
});
