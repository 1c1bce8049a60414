#!/usr/bin/env node
// Builds the package in the current directory twice from one source tree:
//   dist/      ESM (tsconfig.build.json, type-checked), what `import` and the bins load
//   dist/cjs/  CommonJS (tsconfig.cjs.json), what `require` loads; marked by dist/cjs/package.json
// Each build has its declarations beside it, so TypeScript sees ESM and CJS `.d.ts` alike.
//
// The CommonJS build compiles a copy of src/ placed in a `"type": "commonjs"` scope
// (dist/cjs-src) with `module: node16`: tsc then emits require() for static imports but keeps
// real `import()` for dynamic ones (module `commonjs` would turn `import(fileUrl)` into a
// require() that cannot load it). Source maps are pointed back at the shipped src/.
//
// Usage (a package's "build" script): node ../../scripts/build-package.mjs [bin files to chmod +x]
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const CJS_SOURCES = join('dist', 'cjs-src');
const CJS_OUTPUT = join('dist', 'cjs');
const requireFromPackage = createRequire(join(process.cwd(), 'package.json'));
const tsc = requireFromPackage.resolve('typescript/bin/tsc');

function compile(project) {
  const result = spawnSync(process.execPath, [tsc, '-p', project], { stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`build-package: tsc -p ${project} failed in ${process.cwd()}`);
    process.exit(result.status ?? 1);
  }
}

function filesUnder(directory) {
  return readdirSync(directory, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

/** dist/cjs/x.js.map names `../cjs-src/x.ts`; the published source is `../../src/x.ts`. */
function pointMapsAtSources() {
  for (const file of filesUnder(CJS_OUTPUT).filter((name) => name.endsWith('.map'))) {
    const map = JSON.parse(readFileSync(file, 'utf8'));
    map.sources = map.sources.map((source) => source.replace('cjs-src/', '../src/'));
    writeFileSync(file, JSON.stringify(map));
  }
}

rmSync('dist', { recursive: true, force: true });
compile('tsconfig.build.json');
if (existsSync('tsconfig.cjs.json')) {
  cpSync('src', CJS_SOURCES, { recursive: true, filter: (source) => !source.endsWith('.test.ts') });
  writeFileSync(join(CJS_SOURCES, 'package.json'), '{ "type": "commonjs" }\n');
  try {
    compile('tsconfig.cjs.json');
  } finally {
    rmSync(CJS_SOURCES, { recursive: true, force: true });
  }
  writeFileSync(join(CJS_OUTPUT, 'package.json'), `${JSON.stringify({ type: 'commonjs' }, null, 2)}\n`);
  pointMapsAtSources();
}
for (const bin of process.argv.slice(2)) chmodSync(bin, 0o755);
