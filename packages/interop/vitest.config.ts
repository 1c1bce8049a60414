import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // 1. prisma generate for our schemas (the keystrata-prisma bin of the built @keystrata/prisma);
    // 2. the run's SoftHSM2 token and PostgreSQL server; 3. FerretDB (or MONGODB_URI) for Mongoose.
    globalSetup: ['./test/support/global-generate.ts', require.resolve('@keystrata/testing/global-setup-services'), require.resolve('@keystrata/testing/global-setup-ferretdb')],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
