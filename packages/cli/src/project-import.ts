import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

type ExportsField = string | { readonly [key: string]: ExportsField } | undefined;

/** The ESM entry of a package.json: `exports["."]` (import, then default), else `module`, `main`, `index.js`. */
function entryOf(manifest: { exports?: ExportsField; module?: string; main?: string }): string {
  let entry: ExportsField = manifest.exports;
  if (typeof entry === 'object' && entry !== null && '.' in entry) entry = entry['.'];
  while (typeof entry === 'object' && entry !== null) entry = entry.import ?? entry.default ?? entry.node;
  return typeof entry === 'string' ? entry : (manifest.module ?? manifest.main ?? 'index.js');
}

/** `<dir>/node_modules/<name>`, from `dir` up to the root: Node's lookup, without the CLI's own location. */
function findPackage(name: string, from: string): string | undefined {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * Imports a package as the application in `projectDirs` sees it (its `node_modules`, so the CLI
 * uses the same @keystrata/mongoose and mongoose as the app), else as the CLI itself resolves it.
 * Needs no dependency declaration: SQL users install nothing for it.
 *
 * @example
 * ```ts
 * const { MongoKeyStore } = await importFromProject('@keystrata/mongoose', [configDir, process.cwd()]);
 * ```
 */
export async function importFromProject(name: string, projectDirs: readonly string[]): Promise<unknown> {
  for (const dir of projectDirs) {
    const found = findPackage(name, dir);
    if (found === undefined) continue;
    const manifest = JSON.parse(readFileSync(join(found, 'package.json'), 'utf8')) as Parameters<typeof entryOf>[0];
    return import(pathToFileURL(join(found, entryOf(manifest))).href);
  }
  return import(name);
}
