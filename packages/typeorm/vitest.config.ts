import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  // The README example imports the package by name; tests run it against the source.
  resolve: { alias: { '@keystrata/typeorm': fileURLToPath(new URL('./src/index.ts', import.meta.url)) } },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: [require.resolve('@keystrata/testing/global-setup-services')],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
