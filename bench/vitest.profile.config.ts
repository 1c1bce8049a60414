import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * `pnpm --filter @keystrata/bench profile`: CPU profiles (V8 .cpuprofile) of adapter hot paths into
 * results/profiles/, for `node scripts/cpuprofile-top.mjs`. KEYSTRATA_PROFILE=write profiles inserts.
 */
export default defineConfig({
  test: {
    include: ['src/profile/*.profile.ts'],
    globalSetup: [fileURLToPath(new URL('./src/profile/global-setup.ts', import.meta.url))],
    pool: 'forks',
    fileParallelism: false,
    execArgv: ['--cpu-prof', `--cpu-prof-dir=${fileURLToPath(new URL('./results/profiles', import.meta.url))}`],
    testTimeout: 600_000,
  },
});
