import { existsSync } from 'node:fs';

/** Where SoftHSM2's module lives on common systems. */
const CANDIDATES = [
  '/usr/lib/softhsm/libsofthsm2.so',
  '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/lib64/pkcs11/libsofthsm2.so',
  '/opt/homebrew/lib/softhsm/libsofthsm2.so',
  '/usr/local/lib/softhsm/libsofthsm2.so',
];

/** The SoftHSM2 module path, or undefined when SoftHSM2 is not installed. */
export function findSoftHsmModule(): string | undefined {
  return CANDIDATES.find((path) => existsSync(path));
}
