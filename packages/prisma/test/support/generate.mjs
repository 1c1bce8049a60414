// Builds the package and generates the test clients and field maps for both providers, the way a
// user's project would: `prisma generate` runs the `keystrata-prisma` bin found on PATH.
// Usage: node test/support/generate.mjs   (run by the vitest global setup and by `lint`).
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(join(packageDir, 'package.json'));
const run = (args, env = {}) => execFileSync(process.execPath, args, { cwd: packageDir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });

run([require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json']);
const bin = join(packageDir, 'test', 'generated', '.bin');
mkdirSync(bin, { recursive: true });
const shim = join(bin, 'keystrata-prisma');
writeFileSync(shim, `#!/bin/sh\nexec "${process.execPath}" "${join(packageDir, 'dist', 'generator', 'bin.js')}" "$@"\n`);
chmodSync(shim, 0o755);
const prisma = join(dirname(require.resolve('prisma/package.json')), 'build', 'index.js');
for (const provider of ['sqlite', 'postgresql', 'readme']) {
  run([prisma, 'generate', '--schema', join('test', 'prisma', provider, 'schema.prisma')], {
    PATH: `${bin}:${process.env.PATH ?? ''}`,
    // Prisma 7 with driver adapters needs no engine; an existing file stops the download attempt.
    PRISMA_SCHEMA_ENGINE_BINARY: process.execPath,
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
    CHECKPOINT_DISABLE: '1',
  });
}
