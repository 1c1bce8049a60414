#!/usr/bin/env node
// File-length budget (docs/conventions.md): a library source file (packages/*/src, not a test) over 450 lines,
// or any other checked file (tests, scripts, bench, demo) over 600, fails; a file over 250 lines is listed
// as a warning, a candidate for splitting. Generated code, dist and dependencies are not checked.
// Budgets chosen from the distribution when introduced: median 55 lines, p90 131, p99 ~370, largest 512 (a test).
// Run by `pnpm lint`.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const WARN_OVER = 250;
const SOURCE_LIMIT = 450;
const OTHER_LIMIT = 600;
const skipped = new Set(['node_modules', 'dist', 'generated', '.turbo', 'results', 'vectors', 'coverage']);

/** Every checked code file under `dir`. */
function filesUnder(dir) {
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (skipped.has(entry.name) || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...filesUnder(path));
    else if (/\.(m|c)?[jt]sx?$/.test(entry.name) && !entry.name.endsWith('.d.ts')) found.push(path);
  }
  return found;
}

const isLibrarySource = (path) => /^packages\/[^/]+\/src\//.test(path) && !/\.test\.[mc]?[jt]sx?$/.test(path);
const warnings = [];
const failures = [];
for (const top of ['packages', 'apps', 'bench', 'scripts']) {
  for (const file of filesUnder(join(root, top))) {
    const path = relative(root, file);
    const text = readFileSync(file, 'utf8');
    const lines = text.endsWith('\n') ? text.split('\n').length - 1 : text.split('\n').length;
    const limit = isLibrarySource(path) ? SOURCE_LIMIT : OTHER_LIMIT;
    if (lines > limit) failures.push(`  ${path}: ${lines} lines (budget ${limit})`);
    else if (lines > WARN_OVER) warnings.push(`  ${path}: ${lines} lines`);
  }
}

if (warnings.length > 0) console.warn(`check-file-length: ${warnings.length} file(s) over ${WARN_OVER} lines (warning; split when next touched):\n${warnings.join('\n')}`);
if (failures.length > 0) {
  console.error(`check-file-length: ${failures.length} file(s) over budget; split them into smaller modules:\n${failures.join('\n')}`);
  process.exit(1);
}
console.log(`check-file-length: no file over budget (library source ${SOURCE_LIMIT} lines, other ${OTHER_LIMIT}).`);
