// Generates the Prisma client and the Keystrata field map for prisma/schema.prisma, offline:
// Prisma 7 with a driver adapter needs no engine, and an existing file stops its download attempt.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const appDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(appDir, 'package.json'));
const prisma = join(dirname(require.resolve('prisma/package.json')), 'build', 'index.js');
execFileSync(process.execPath, [prisma, 'generate', '--schema', 'prisma/schema.prisma'], {
  cwd: appDir,
  stdio: ['ignore', 'ignore', 'inherit'],
  env: {
    ...process.env,
    PATH: `${join(appDir, 'node_modules', '.bin')}:${process.env.PATH ?? ''}`, // the keystrata-prisma generator
    PRISMA_SCHEMA_ENGINE_BINARY: process.execPath,
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
    CHECKPOINT_DISABLE: '1',
  },
});
