import pkcs11js from 'pkcs11js';
import type * as P11 from 'pkcs11js';
import { KeystrataError } from '../errors/keystrata-error.js';
import { ckrName } from './pkcs11-errors.js';

/**
 * A loaded PKCS#11 module, shared by every root key of the process that uses the same path:
 * `C_Initialize` runs once, `C_Finalize` only when the last user closes and no call is in flight.
 * Recovery never finalises: a module found uninitialised (someone called `C_Finalize` under us)
 * is initialised again, and sessions are reopened by their pools.
 */
export interface Pkcs11Module {
  readonly pkcs11: P11.PKCS11;
  readonly path: string;
  /** Initialises the module again if it reports CKR_CRYPTOKI_NOT_INITIALIZED; never finalises. */
  ensureInitialised(): void;
  /** Drops one user; the last one finalises the module (callers drain their calls first). */
  release(): void;
}

interface Entry {
  module: Pkcs11Module;
  users: number;
}

const modules = new Map<string, Entry>();

function initialise(pkcs11: P11.PKCS11): void {
  try {
    pkcs11.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
  } catch (error) {
    if (ckrName(error) !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') throw error;
  }
}

/**
 * Loads (or shares) the module at `path`, setting `environment` first (e.g. SOFTHSM2_CONF).
 *
 * @example
 * ```ts
 * const module = acquirePkcs11Module('/usr/lib/softhsm/libsofthsm2.so', {});
 * ```
 */
export function acquirePkcs11Module(path: string, environment: Readonly<Record<string, string>>): Pkcs11Module {
  const existing = modules.get(path);
  if (existing !== undefined) {
    existing.users++;
    return existing.module;
  }
  for (const [name, value] of Object.entries(environment)) process.env[name] = value;
  const pkcs11 = new pkcs11js.PKCS11();
  try {
    pkcs11.load(path);
    initialise(pkcs11);
  } catch (error) {
    throw new KeystrataError('HSM_UNAVAILABLE', `Could not load the PKCS#11 module at ${path}.`, { cause: error, details: { module: path } });
  }
  const entry: Entry = {
    users: 1,
    module: {
      pkcs11,
      path,
      ensureInitialised() {
        try {
          pkcs11.C_GetInfo();
        } catch (error) {
          if (ckrName(error) === 'CKR_CRYPTOKI_NOT_INITIALIZED') initialise(pkcs11);
        }
      },
      release() {
        if (--entry.users > 0) return;
        modules.delete(path);
        try { pkcs11.C_Finalize(); } catch { /* already finalised */ }
        try { pkcs11.close(); } catch { /* already closed */ }
      },
    },
  };
  modules.set(path, entry);
  return entry.module;
}
