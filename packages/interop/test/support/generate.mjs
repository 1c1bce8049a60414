// Generates the Prisma clients and Keystrata field maps of prisma/{sqlite,postgresql}/schema.prisma
// into generated/, the way a user's project does: `prisma generate` runs the `keystrata-prisma` bin
// of the built @keystrata/prisma (linked into node_modules/.bin by pnpm) found on PATH.
// Usage: node test/support/generate.mjs   (run by the vitest global setup, test/support/global-generate.ts).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(join(packageDir, 'package.json'));
const bin = join(packageDir, 'node_modules', '.bin');
const generator = join(dirname(require.resolve('@keystrata/prisma/package.json')), 'dist', 'generator', 'bin.js');
if (!existsSync(generator) || !existsSync(join(bin, 'keystrata-prisma'))) {
  throw new Error(`The keystrata-prisma generator is missing (${generator}): run \`pnpm --filter @keystrata/prisma build\` and \`pnpm install\`.`);
}
const prisma = join(dirname(require.resolve('prisma/package.json')), 'build', 'index.js');
for (const provider of ['sqlite', 'postgresql']) {
  try {
    execFileSync(process.execPath, [prisma, 'generate', '--schema', join('prisma', provider, 'schema.prisma')], {
      cwd: packageDir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        PATH: `${bin}:${process.env.PATH ?? ''}`,
        // Prisma 7 with driver adapters needs no engine; an existing file stops the download attempt.
        PRISMA_SCHEMA_ENGINE_BINARY: process.execPath,
        PRISMA_HIDE_UPDATE_MESSAGE: '1',
        CHECKPOINT_DISABLE: '1',
      },
    });
  } catch (error) {
    const e = /** @type {{ stdout?: Buffer; stderr?: Buffer }} */ (error);
    throw new Error(`prisma generate (${provider}) failed:\n${String(e.stdout ?? '')}${String(e.stderr ?? '')}`);
  }
}
