// Generates the Prisma clients and Keystrata field maps of prisma/{sqlite,postgresql}/schema.prisma
// into generated/, the way a user's project does: `prisma generate` runs the `keystrata-prisma` bin
// of the built @keystrata/prisma (linked into node_modules/.bin by pnpm) found on PATH.
// Usage: node test/support/generate.mjs   (run by the vitest global setup, test/support/global-generate.ts).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prismaGenerate } from '@keystrata/testing/prisma-generate';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(join(packageDir, 'package.json'));
const bin = join(packageDir, 'node_modules', '.bin');
const generator = join(dirname(require.resolve('@keystrata/prisma/package.json')), 'dist', 'generator', 'bin.js');
if (!existsSync(generator) || !existsSync(join(bin, 'keystrata-prisma'))) {
  throw new Error(`The keystrata-prisma generator is missing (${generator}): run \`pnpm --filter @keystrata/prisma build\` and \`pnpm install\`.`);
}
for (const provider of ['sqlite', 'postgresql']) prismaGenerate({ cwd: packageDir, schema: join('prisma', provider, 'schema.prisma'), binDirs: [bin] });
