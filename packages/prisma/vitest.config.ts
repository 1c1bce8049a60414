import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  // The README example imports the package by name; tests run it against the source.
  resolve: { alias: { '@keystrata/prisma': fileURLToPath(new URL('./src/index.ts', import.meta.url)) } },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Generate the test clients first (prisma generate + the keystrata-prisma bin), then start
    // the run's SoftHSM2 token and PostgreSQL server.
    globalSetup: ['./test/support/global-generate.ts', require.resolve('@keystrata/testing/global-setup-services')],
    // JSON report for scripts/test-summary.mjs, next to the usual console output.
    reporters: ['default', ['json', { outputFile: '.vitest-report.json' }]],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
