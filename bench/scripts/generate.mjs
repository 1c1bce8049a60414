// Generates the bench's Prisma clients offline: prisma/keystrata (client + keystrata-prisma field
// map) and prisma/peer (client + DMMF dump for prisma-field-encryption). Run by the vitest global
// setup and by `lint`.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prismaGenerate, writeBinShim } from '@keystrata/testing/prisma-generate';

const benchDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(benchDir, 'package.json'));
const bin = join(benchDir, 'generated', '.bin');
writeBinShim(bin, 'keystrata-prisma', join(dirname(require.resolve('@keystrata/prisma/package.json')), 'dist', 'generator', 'bin.js'));
writeBinShim(bin, 'bench-dump-dmmf', join(benchDir, 'scripts', 'dump-dmmf.mjs'));
for (const schema of ['keystrata', 'peer']) prismaGenerate({ cwd: benchDir, schema: join('prisma', schema, 'schema.prisma'), binDirs: [bin] });
