#!/usr/bin/env node
// Builds the addon with AddressSanitizer into build-asan/ (apart from the normal build) and runs
// the native test suite against it: Node under the ASan runtime (LD_PRELOAD), the suite loading
// the sanitized addon through KEYSTRATA_NATIVE_ADDON. Exits non-zero on any ASan report, a failed
// test, or when the sanitizer was not actually active. Linux with gcc; test/asan.test.ts runs it.
//   node scripts/asan.mjs
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const outputDir = join(packageDir, 'build-asan');
const addon = join(outputDir, 'keystrata_native.node');
const SUITE = ['test/wycheproof.test.ts', 'test/differential.test.ts', 'test/key-handle.test.ts', 'test/hmac.test.ts'];
const TIME_LIMIT_MS = 240_000;

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: packageDir, encoding: 'utf8', timeout: TIME_LIMIT_MS, maxBuffer: 64 * 1024 * 1024, ...options });
  return { status: result.status, output: `${result.stdout ?? ''}${result.stderr ?? ''}`, error: result.error };
}

function stop(message, output = '') {
  console.error(`asan: ${message}\n${output}`);
  process.exit(1);
}

function nodeHeaders() {
  const candidates = [process.env.npm_config_nodedir && join(process.env.npm_config_nodedir, 'include', 'node'), '/usr/include/node', join(dirname(process.execPath), '..', 'include', 'node')];
  return candidates.find((dir) => dir && existsSync(join(dir, 'node_api.h')) && existsSync(join(dir, 'openssl', 'evp.h')));
}

const headers = nodeHeaders();
if (headers === undefined) stop('Node headers with OpenSSL (include/node/node_api.h, openssl/evp.h) not found; set npm_config_nodedir.');
const runtime = run('gcc', ['-print-file-name=libasan.so']).output.trim();
if (!runtime.startsWith('/') || !existsSync(runtime)) stop('gcc has no libasan.so (install gcc with AddressSanitizer support).');

mkdirSync(outputDir, { recursive: true });
const flags = ['-shared', '-fPIC', '-g', '-O1', '-fsanitize=address', '-fno-omit-frame-pointer', '-Wall', '-Wextra', '-Werror'];
const build = run('gcc', [...flags, '-DNAPI_VERSION=8', '-DNODE_GYP_MODULE_NAME=keystrata_native', `-I${headers}`, 'src/keystrata_native.c', '-o', addon]);
if (build.status !== 0) stop('the sanitized build failed', build.output);

const env = {
  ...process.env,
  LD_PRELOAD: runtime,
  // Node itself is not built with ASan and keeps memory until exit: leak reports would be Node's.
  ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=0:halt_on_error=1:exitcode=86',
  KEYSTRATA_NATIVE_ADDON: addon,
};

// The sanitizer must really be active and the sanitized addon the one loaded.
const probe = run(
  process.execPath,
  [
    '-e',
    `const n = require('./lib/index.cjs');
     const maps = require('node:fs').readFileSync('/proc/self/maps', 'utf8');
     const key = new n.AeadKey(Buffer.alloc(32));
     n.sealValues([{ key, iv: Buffer.alloc(12), plaintext: Buffer.from('x') }]);
     console.log(JSON.stringify({ available: n.available, asan: maps.includes('libasan'), addon: maps.includes(${JSON.stringify(addon)}) }));`,
  ],
  { env },
);
let state;
try {
  state = JSON.parse(probe.output.trim().split('\n').pop());
} catch {
  stop('the probe under ASan did not run', probe.output);
}
if (!state.available || !state.asan || !state.addon) stop(`the sanitizer is not active on the sanitized addon: ${JSON.stringify(state)}`, probe.output);

const vitest = join(packageDir, 'node_modules', 'vitest', 'vitest.mjs');
const suite = run(process.execPath, [vitest, 'run', '--pool=forks', ...SUITE], { env });
if (suite.error) stop(`the suite did not finish within ${TIME_LIMIT_MS / 1000} s`, suite.output);
if (/ERROR: AddressSanitizer|ERROR: LeakSanitizer/.test(suite.output)) stop('AddressSanitizer reported an error', suite.output);
if (suite.status !== 0) stop(`the suite failed under ASan (exit ${suite.status})`, suite.output);
console.log(`asan: ${SUITE.length} test files passed against the AddressSanitizer build, no reports.`);
