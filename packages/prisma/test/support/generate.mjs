// Builds the package and generates the test clients and field maps for both providers, the way a
// user's project would: `prisma generate` runs the `keystrata-prisma` bin found on PATH.
// Usage: node test/support/generate.mjs   (run by the vitest global setup and by `lint`).
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prismaGenerate, writeBinShim } from '@keystrata/testing/prisma-generate';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(join(packageDir, 'package.json'));
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: packageDir, stdio: ['ignore', 'pipe', 'pipe'] });
const bin = join(packageDir, 'test', 'generated', '.bin');
writeBinShim(bin, 'keystrata-prisma', join(packageDir, 'dist', 'generator', 'bin.js'));
for (const provider of ['sqlite', 'postgresql', 'readme']) prismaGenerate({ cwd: packageDir, schema: join('test', 'prisma', provider, 'schema.prisma'), binDirs: [bin] });
