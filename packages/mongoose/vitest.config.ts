import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  // The README example imports the package by name; tests run it against the source.
  resolve: { alias: { '@keystrata/mongoose': fileURLToPath(new URL('./src/index.ts', import.meta.url)) } },
  test: {
    include: ['test/**/*.test.ts'],
    // The run's SoftHSM2 token (and PostgreSQL, unused here), then FerretDB or MONGODB_URI.
    globalSetup: [require.resolve('@keystrata/testing/global-setup-services'), require.resolve('@keystrata/testing/global-setup-ferretdb')],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
