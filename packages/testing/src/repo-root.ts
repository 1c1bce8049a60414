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

/** `../shared/vectors/` beside the project root: test vectors read in place, never copied. */
export function vectorsDir(): string {
  return resolve(repoRoot(), '..', 'shared', 'vectors');
}
