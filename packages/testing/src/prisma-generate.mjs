// Offline `prisma generate`, shared by every package that generates a Prisma client (the prisma
// package's tests, interop, bench, the demo). Plain JavaScript so `node scripts/….mjs` can import it.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * Writes an executable `name` into `dir` that runs `script` with this Node (a generator bin for
 * PATH, the way a user's node_modules/.bin holds one).
 *
 * @example
 * ```js
 * writeBinShim(join(dir, '.bin'), 'keystrata-prisma', generatorBinJs);
 * ```
 * @param {string} dir
 * @param {string} name
 * @param {string} script
 */
export function writeBinShim(dir, name, script) {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\nexec "${process.execPath}" "${script}" "$@"\n`);
  chmodSync(path, 0o755);
}

/**
 * Runs `prisma generate --schema <schema>` in `cwd` with the `prisma` CLI that `cwd`'s package
 * depends on, offline: Prisma 7 with driver adapters needs no engine, and an existing file in
 * PRISMA_SCHEMA_ENGINE_BINARY stops its download attempt. `binDirs` go first on PATH (where the
 * `keystrata-prisma` generator is found). Throws with Prisma's output on failure.
 *
 * @example
 * ```js
 * prismaGenerate({ cwd: packageDir, schema: 'prisma/sqlite/schema.prisma', binDirs: [join(packageDir, 'node_modules', '.bin')] });
 * ```
 * @param {{ cwd: string; schema: string; binDirs?: readonly string[] }} options
 */
export function prismaGenerate({ cwd, schema, binDirs = [] }) {
  const require = createRequire(join(cwd, 'package.json'));
  const prisma = join(dirname(require.resolve('prisma/package.json')), 'build', 'index.js');
  try {
    execFileSync(process.execPath, [prisma, 'generate', '--schema', schema], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        PATH: [...binDirs, process.env.PATH ?? ''].join(':'),
        PRISMA_SCHEMA_ENGINE_BINARY: process.execPath,
        PRISMA_HIDE_UPDATE_MESSAGE: '1',
        CHECKPOINT_DISABLE: '1',
      },
    });
  } catch (error) {
    const e = /** @type {{ stdout?: Buffer; stderr?: Buffer }} */ (error);
    throw new Error(`prisma generate (${schema}) failed:\n${String(e.stdout ?? '')}${String(e.stderr ?? '')}`);
  }
}
