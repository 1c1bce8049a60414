import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * `pnpm bench`: measurements, not tests (nothing is asserted on time). One bench file per ORM,
 * each in its own process, one at a time (the machine's cores belong to the measured work).
 */
export default defineConfig({
  test: {
    include: ['src/**/*.bench.ts'],
    globalSetup: [fileURLToPath(new URL('./src/global-setup.ts', import.meta.url))],
    pool: 'forks',
    fileParallelism: false,
    execArgv: ['--expose-gc'],
    testTimeout: 900_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
