import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { cpus, totalmem, release, platform, arch } from 'node:os';
import { dirname, join } from 'node:path';
import { BENCH_DIR } from './paths.js';

/** CPU model and count, memory, OS, Node. */
export function machine(): Record<string, string | number> {
  const list = cpus();
  return {
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    cpuCount: list.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${platform()} ${release()} ${arch()}`,
    node: process.version,
  };
}

/**
 * The installed version of a package, read from its package.json under bench/node_modules (or,
 * for a dependency of a dependency, next to its parent in pnpm's layout).
 */
export function packageVersion(name: string, parent?: string): string {
  try {
    const dir = parent === undefined ? join(BENCH_DIR, 'node_modules', name) : join(dirname(realpathSync(join(BENCH_DIR, 'node_modules', parent))), ...(parent.startsWith('@') ? ['..'] : []), name);
    const file = join(dir, 'package.json');
    if (!existsSync(file)) return 'not installed';
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function command(file: string, args: string[]): string {
  try {
    return (
      execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
        .trim()
        .split('\n')[0] ?? ''
    );
  } catch {
    return 'unavailable';
  }
}

/** Repository commit (with a `+dirty` mark) and the SoftHSM2 version. */
export function environment(): Record<string, string> {
  const commit = command('git', ['-C', BENCH_DIR, 'rev-parse', '--short', 'HEAD']);
  const dirty = command('git', ['-C', BENCH_DIR, 'status', '--porcelain']) !== '' ? '+dirty' : '';
  return { commit: `${commit}${dirty}`, softhsm2: command('softhsm2-util', ['--version']) };
}
