import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { repoRoot } from './repo-root.js';

/** Where NSS softoken (`libsoftokn3.so`, Debian/Ubuntu `libnss3`, Fedora `nss-softokn`, Homebrew `nss`) lives. */
export const NSS_SOFTOKEN_CANDIDATES = [
  '/usr/lib/x86_64-linux-gnu/libsoftokn3.so',
  '/usr/lib/aarch64-linux-gnu/libsoftokn3.so',
  '/usr/lib64/libsoftokn3.so',
  '/usr/lib/libsoftokn3.so',
  '/opt/homebrew/lib/libsoftokn3.dylib',
  '/usr/local/lib/libsoftokn3.dylib',
];

/** Finds NSS softoken (`KEYSTRATA_NSS_SOFTOKEN` overrides). */
export function findNssSoftokenModule(): string {
  const override = process.env.KEYSTRATA_NSS_SOFTOKEN;
  if (override !== undefined && override !== '') return override;
  const found = NSS_SOFTOKEN_CANDIDATES.find((path) => existsSync(path));
  if (found === undefined) throw new Error('NSS softoken (libsoftokn3) is not installed: run `bash scripts/setup` (Debian: apt-get install libnss3; macOS: brew install nss).');
  return found;
}

/** An NSS softoken key database made for one test run, in its own directory, with its user PIN set. */
export interface NssSoftoken {
  readonly module: string;
  /** The C_Initialize library parameters that open this database (Pkcs11RootKeyOptions.libraryParameters). */
  readonly libraryParameters: string;
  /** The database token's label (NSS `dbTokenDescription`). */
  readonly tokenLabel: string;
  readonly pin: string;
  readonly directory: string;
}

/** The library parameters NSS softoken needs to open the SQLite database in `directory` as token `label`. */
export function nssLibraryParameters(directory: string, label: string): string {
  return `configdir='sql:${directory}' certPrefix='' keyPrefix='' secmod='secmod.db' flags= dbTokenDescription='${label}'`;
}

/**
 * Creates a fresh NSS softoken database (its internal key slot, labelled `label`) and sets its
 * user PIN through the PKCS#11 API (C_Login as SO with the empty PIN of a new database, then
 * C_InitPIN), in a child process: NSS allows one C_Initialize per process, which the test's root
 * key then makes with {@link NssSoftoken.libraryParameters}.
 *
 * @example
 * ```ts
 * const nss = createNssSoftoken({ label: 'keystrata-nss' });
 * const rootKey = await Pkcs11RootKey.open({ module: nss.module, libraryParameters: nss.libraryParameters, tokenLabel: nss.tokenLabel, pin: () => nss.pin });
 * ```
 */
export function createNssSoftoken(options: { label?: string; pin?: string } = {}): NssSoftoken {
  const directory = mkdtempSync(join(tmpdir(), 'keystrata-nss-'));
  const tokenLabel = options.label ?? 'keystrata-nss';
  const pin = options.pin ?? '1234-nss-test-pin';
  const module = findNssSoftokenModule();
  const libraryParameters = nssLibraryParameters(directory, tokenLabel);
  // pkcs11js is a dependency of @keystrata/core, not of this source-only package.
  const pkcs11js = createRequire(join(repoRoot(), 'packages', 'core', 'package.json')).resolve('pkcs11js');
  const script = join(dirname(fileURLToPath(import.meta.url)), 'nss-softoken-init.cjs');
  execFileSync(process.execPath, [script], { input: JSON.stringify({ pkcs11js, module, libraryParameters, label: tokenLabel, pin }), stdio: ['pipe', 'pipe', 'pipe'] });
  return { module, libraryParameters, tokenLabel, pin, directory };
}
