import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The workspace root (packages/install-test/test/install → four levels up). */
export const REPO_ROOT = join(import.meta.dirname, '..', '..', '..', '..');

/** The packages a user installs, as `pnpm pack` publishes them. */
const PUBLISHED = ['core', 'cli', 'prisma', 'typeorm', 'mongoose', 'native'] as const;
export type Published = (typeof PUBLISHED)[number];

/** One npm cache for every app and every run: tarballs are downloaded once per machine. */
const NPM_CACHE = join(tmpdir(), 'keystrata-install-test-npm-cache');

export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command; a failure throws with the command, its exit and its whole output (fail loudly). */
export function run(command: string, args: readonly string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd: options.cwd, env: options.env ?? process.env, timeout: options.timeoutMs ?? 600_000, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error === null) return resolve({ stdout, stderr });
      reject(new Error(`\`${command} ${args.join(' ')}\` in ${options.cwd} failed (${error.code ?? error.signal ?? error.message}):\n--- stdout\n${stdout}\n--- stderr\n${stderr}`));
    });
  });
}

/** Packs every published package into `dir` with pnpm (workspace:* becomes the version); returns name → tarball. */
export async function packAll(dir: string): Promise<Record<Published, string>> {
  mkdirSync(dir, { recursive: true });
  await Promise.all(PUBLISHED.map((name) => run('pnpm', ['pack', '--pack-destination', dir], { cwd: join(REPO_ROOT, 'packages', name) })));
  const tarballs = {} as Record<Published, string>;
  for (const name of PUBLISHED) {
    const file = readdirSync(dir).find((entry) => entry.startsWith(`keystrata-${name}-`) && entry.endsWith('.tgz'));
    if (file === undefined) throw new Error(`pnpm pack wrote no tarball for @keystrata/${name} in ${dir}`);
    tarballs[name] = join(dir, file);
  }
  return tarballs;
}

/** Environment of npm in the apps: the shared cache, no audit/fund noise, system Node headers for node-gyp. */
export function npmEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, npm_config_cache: NPM_CACHE, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };
  // pnpm's own npm_config_* (workspace, registry pins, ...) must not leak into the user's npm.
  for (const name of Object.keys(env))
    if (name.startsWith('npm_') && !['npm_config_cache', 'npm_config_audit', 'npm_config_fund', 'npm_config_update_notifier', 'npm_config_nodedir'].includes(name)) delete env[name];
  return env;
}

/**
 * A fresh npm project in `dir`: `npm install --ignore-scripts` of `dependencies` (tarball paths
 * or name@version), then `npm rebuild` of the native modules only (pkcs11js, better-sqlite3):
 * Prisma's install scripts would download engines, which this machine cannot.
 */
export async function createApp(dir: string, manifest: Record<string, unknown>, dependencies: readonly string[], native: readonly string[]): Promise<void> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ private: true, version: '1.0.0', ...manifest }, null, 2)}\n`);
  const env = npmEnvironment();
  await run('npm', ['install', '--ignore-scripts', '--no-package-lock', ...dependencies], { cwd: dir, env });
  await run('npm', ['rebuild', ...native], { cwd: dir, env });
}

/** The first fenced block of `language` after `<!-- example -->` in a package's README. */
export function readmeExample(name: Published, language: string): string {
  const readme = readFileSync(join(REPO_ROOT, 'packages', name, 'README.md'), 'utf8');
  const from = readme.indexOf('<!-- example -->');
  const match = new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``).exec(from >= 0 ? readme.slice(from) : readme);
  if (match === null) throw new Error(`packages/${name}/README.md has no \`\`\`${language} example`);
  return match[1]!;
}

/** The first fenced block of `language` anywhere in a package's README. */
export function readmeBlock(name: Published, language: string): string {
  const readme = readFileSync(join(REPO_ROOT, 'packages', name, 'README.md'), 'utf8');
  const match = new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``).exec(readme);
  if (match === null) throw new Error(`packages/${name}/README.md has no \`\`\`${language} block`);
  return match[1]!;
}

/**
 * A README example with top-level await as a CommonJS program (what tsc with `module: commonjs`
 * accepts): its imports stay at the top, the rest runs in `main()`, and a failure exits non-zero.
 */
export function asCommonJsProgram(example: string): string {
  const lines = example.split('\n');
  const imports: string[] = [];
  let index = 0;
  for (; index < lines.length; index++) {
    const line = lines[index]!;
    if (line.startsWith('import ') || line.trim() === '') imports.push(line);
    else break;
  }
  const body = lines.slice(index);
  // Declarations (classes with decorators, schemas) must stay at the module level for decorators to apply the same way.
  return `${imports.join('\n')}\n\nasync function main(): Promise<void> {\n${body.join('\n')}\n}\n\nmain().catch((error: unknown) => {\n  console.error(error);\n  process.exit(1);\n});\n`;
}
