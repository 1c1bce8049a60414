// Generates the bench's Prisma clients offline: prisma/keystrata (client + keystrata-prisma field
// map) and prisma/peer (client + DMMF dump for prisma-field-encryption). Run by the vitest global
// setup and by `lint`. Prisma 7 with driver adapters needs no engine: PRISMA_SCHEMA_ENGINE_BINARY
// points at an existing file so nothing is downloaded.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const benchDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(benchDir, 'package.json'));
const bin = join(benchDir, 'generated', '.bin');
mkdirSync(bin, { recursive: true });
const shim = (name, script) => {
  const path = join(bin, name);
  writeFileSync(path, `#!/bin/sh\nexec "${process.execPath}" "${script}" "$@"\n`);
  chmodSync(path, 0o755);
};
const keystrataPrisma = join(dirname(require.resolve('@keystrata/prisma/package.json')), 'dist', 'generator', 'bin.js');
shim('keystrata-prisma', keystrataPrisma);
shim('bench-dump-dmmf', join(benchDir, 'scripts', 'dump-dmmf.mjs'));
const prisma = join(dirname(require.resolve('prisma/package.json')), 'build', 'index.js');
for (const schema of ['keystrata', 'peer']) {
  execFileSync(process.execPath, [prisma, 'generate', '--schema', join('prisma', schema, 'schema.prisma')], {
    cwd: benchDir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      PATH: `${bin}:${process.env.PATH ?? ''}`,
      PRISMA_SCHEMA_ENGINE_BINARY: process.execPath,
      PRISMA_HIDE_UPDATE_MESSAGE: '1',
      CHECKPOINT_DISABLE: '1',
    },
  });
}
