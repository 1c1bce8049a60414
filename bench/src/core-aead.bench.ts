/**
 * Issue 16's core-alone numbers, beside the hardware floor: the core's encrypt (+ blind index) and
 * decrypt per value against raw node:crypto, once on the AEAD path the core picks by default and
 * once with the fallback forced (each in its own process: the path is chosen per process), plus
 * OpenSSL's own speed: a C loop over EVP (bench/floor/gcm-floor.c, one context per key, only the IV
 * set per value) and `openssl speed -evp aes-256-gcm` at 64 bytes and in bulk. Written to
 * results/parts/issue16/core-aead.json for the report (report-issue16.ts).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'vitest';
import { QUICK } from './config.js';
import { BENCH_DIR } from './paths.js';
import { CORE_AEAD_FILE, ISSUE16_DIR, type CoreAeadPart, type CorePathRun, type FloorRun } from './report-issue16.js';

/** How the fallback is forced (what the core reads; override if the native path names it otherwise). */
const FALLBACK_ENV = process.env.KEYSTRATA_BENCH_FALLBACK_ENV ?? 'KEYSTRATA_AEAD=node';
const ROUNDS = QUICK ? 2 : 9;

function corePath(label: string, extraEnv: Record<string, string>): CorePathRun {
  try {
    const out = execFileSync(process.execPath, ['--expose-gc', join(BENCH_DIR, 'scripts', 'core-aead.mjs'), String(ROUNDS)], {
      cwd: BENCH_DIR,
      env: { ...process.env, ...extraEnv },
      encoding: 'utf8',
      timeout: 300_000,
    });
    return { label, env: extraEnv, status: 'ok', ...(JSON.parse(out.trim().split('\n').at(-1)!) as Omit<CorePathRun, 'label' | 'env' | 'status'>) };
  } catch (error) {
    return { label, env: extraEnv, status: 'error', reason: error instanceof Error ? error.message.split('\n')[0] : String(error) };
  }
}

/** OpenSSL's C floor: gcm-floor.c compiled here (cc, -lcrypto), or why not. */
function cLoop(): FloorRun {
  const dir = mkdtempSync(join(tmpdir(), 'keystrata-gcm-floor-'));
  try {
    const bin = join(dir, 'gcm-floor');
    execFileSync('cc', ['-O2', '-o', bin, join(BENCH_DIR, 'floor', 'gcm-floor.c'), '-lcrypto'], { stdio: 'pipe', timeout: 60_000 });
    const out = JSON.parse(execFileSync(bin, ['20000', '40', '40', String(ROUNDS)], { encoding: 'utf8', timeout: 120_000 })) as {
      sealNs: { median: number };
      openNs: { median: number };
      openssl: string;
    };
    return { status: 'ok', sealNs: out.sealNs.median, openNs: out.openNs.median, detail: `${out.openssl}, 20,000 values of 40 bytes with 40 bytes of AAD over 100 keys, median of ${ROUNDS} rounds` };
  } catch (error) {
    return { status: 'error', reason: `no C compiler or OpenSSL headers (${error instanceof Error ? error.message.split('\n')[0] : String(error)})` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `openssl speed -evp aes-256-gcm -bytes N`: ns per N-byte operation, from its 1000s of bytes per second. */
function opensslSpeed(bytes: number): FloorRun {
  try {
    const out = execFileSync('openssl', ['speed', '-evp', 'aes-256-gcm', '-bytes', String(bytes), '-seconds', QUICK ? '1' : '3', '-mr'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 60_000,
    });
    const line = out.split('\n').find((l) => l.startsWith('+F:'));
    const bytesPerSecond = Number(line?.split(':').at(-1));
    if (!(bytesPerSecond > 0)) throw new Error(`unexpected output: ${out.slice(0, 200)}`);
    const version = execFileSync('openssl', ['version'], { encoding: 'utf8' }).trim();
    return { status: 'ok', sealNs: (bytes / bytesPerSecond) * 1e9, detail: version };
  } catch (error) {
    return { status: 'error', reason: error instanceof Error ? error.message.split('\n')[0] : String(error) };
  }
}

it('issue 16: the core alone on each AEAD path vs raw node:crypto, beside the hardware floor', () => {
  const [name, value] = FALLBACK_ENV.split('=') as [string, string];
  const part: CoreAeadPart = {
    generatedAt: new Date().toISOString(),
    quick: QUICK,
    paths: [corePath('default', {}), corePath('fallback forced', { [name]: value ?? '' })],
    floor: { cLoop: cLoop(), openssl64: opensslSpeed(64), opensslBulk: opensslSpeed(16_384) },
  };
  mkdirSync(ISSUE16_DIR, { recursive: true });
  writeFileSync(CORE_AEAD_FILE, `${JSON.stringify(part, null, 2)}\n`);
  const failed = part.paths.filter((p) => p.status !== 'ok');
  if (failed.length > 0) throw new Error(`core measurement failed: ${failed.map((p) => `${p.label}: ${p.reason}`).join('; ')}`);
});
