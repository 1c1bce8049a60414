// Generates the Prisma client and the Keystrata field map for prisma/schema.prisma, offline
// (the keystrata-prisma generator is found in node_modules/.bin).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prismaGenerate } from '@keystrata/testing/prisma-generate';

const appDir = join(dirname(fileURLToPath(import.meta.url)), '..');
prismaGenerate({ cwd: appDir, schema: 'prisma/schema.prisma', binDirs: [join(appDir, 'node_modules', '.bin')] });
