import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where SoftHSM2's module lives on Debian, Ubuntu, Fedora and Homebrew. */
export const SOFTHSM_MODULE_CANDIDATES = [
  '/usr/lib/softhsm/libsofthsm2.so',
  '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/lib64/pkcs11/libsofthsm2.so',
  '/opt/homebrew/lib/softhsm/libsofthsm2.so',
  '/usr/local/lib/softhsm/libsofthsm2.so',
];

/** Finds the SoftHSM2 module (`KEYSTRATA_PKCS11_MODULE` overrides). */
export function findSoftHsmModule(): string {
  const override = process.env.KEYSTRATA_PKCS11_MODULE;
  if (override !== undefined && override !== '') return override;
  const found = SOFTHSM_MODULE_CANDIDATES.find((path) => existsSync(path));
  if (found === undefined) throw new Error('SoftHSM2 is not installed: run `bash scripts/setup` (Debian: apt-get install softhsm2; macOS: brew install softhsm).');
  return found;
}

/** A SoftHSM2 token made for one test run, in its own directory (never the system token store). */
export interface SoftHsmToken {
  readonly module: string;
  readonly tokenLabel: string;
  readonly pin: string;
  readonly soPin: string;
  readonly directory: string;
  readonly conf: string;
  readonly moduleEnvironment: { readonly SOFTHSM2_CONF: string };
}

/**
 * Initialises a fresh SoftHSM2 token in a new directory with its own SOFTHSM2_CONF.
 *
 * @example
 * ```ts
 * const token = createSoftHsmToken({ label: 'keystrata-test' });
 * ```
 */
export function createSoftHsmToken(options: { label?: string; directory?: string; pin?: string } = {}): SoftHsmToken {
  const directory = options.directory ?? mkdtempSync(join(tmpdir(), 'keystrata-softhsm-'));
  const tokens = join(directory, 'tokens');
  mkdirSync(tokens, { recursive: true });
  const conf = join(directory, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
  const tokenLabel = options.label ?? 'keystrata-test';
  const pin = options.pin ?? '1234-test-pin';
  const soPin = 'so-5678-test-pin';
  execFileSync('softhsm2-util', ['--init-token', '--free', '--label', tokenLabel, '--pin', pin, '--so-pin', soPin], {
    env: { ...process.env, SOFTHSM2_CONF: conf },
    stdio: 'pipe',
  });
  return { module: findSoftHsmModule(), tokenLabel, pin, soPin, directory, conf, moduleEnvironment: { SOFTHSM2_CONF: conf } };
}
