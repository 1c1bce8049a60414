import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The monorepo root (the folder with pnpm-workspace.yaml). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'pnpm-workspace.yaml'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('pnpm-workspace.yaml not found above @keystrata/testing');
    dir = parent;
  }
  return dir;
}

/** `packages/testing/vectors/`: the test vectors vendored into the repository (sources and licenses in its README). */
export function vectorsDir(): string {
  return resolve(repoRoot(), 'packages', 'testing', 'vectors');
}
