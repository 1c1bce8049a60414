#!/usr/bin/env node
// Builds the addon from source with node-gyp (the package's `install` script, and `build`).
// Never fails the install: without a compiler, Python or Node headers the addon is simply absent
// and @keystrata/core uses node:crypto instead (same output), saying so in `keystrata status`.
//   KEYSTRATA_NATIVE_SKIP_BUILD=1   do not build (the core then uses node:crypto)
//   --strict                        exit non-zero when the build fails (CI on this repository)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const strict = process.argv.includes('--strict');

function nodeGypCommand() {
  // npm and pnpm name their bundled node-gyp in the environment of lifecycle scripts.
  const named = process.env.npm_config_node_gyp;
  if (named && existsSync(named)) return [process.execPath, [named]];
  const besideNode = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  if (existsSync(besideNode)) return [process.execPath, [besideNode]];
  return ['node-gyp', []];
}

if (process.env.KEYSTRATA_NATIVE_SKIP_BUILD === '1') {
  console.warn('@keystrata/native: KEYSTRATA_NATIVE_SKIP_BUILD=1, not building; @keystrata/core will use node:crypto.');
  process.exit(0);
}
// Like scripts/setup: use the system Node's headers when they belong to this Node (no download).
const systemHeaders = !process.env.npm_config_nodedir && process.execPath === '/usr/bin/node' && existsSync('/usr/include/node/node_version.h');
const [command, prefix] = nodeGypCommand();
const result = spawnSync(command, [...prefix, 'rebuild', ...(systemHeaders ? ['--nodedir=/usr'] : [])], { cwd: packageDir, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
if (result.status === 0) process.exit(0);
const reason = result.error ? result.error.message : (result.stderr || '').trim().split('\n').slice(-5).join('\n');
console.warn(`@keystrata/native: the addon did not build, so @keystrata/core will use node:crypto (same output, slower).\n${reason}`);
process.exit(strict ? 1 : 0);
