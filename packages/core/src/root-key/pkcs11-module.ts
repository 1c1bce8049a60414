import pkcs11js from 'pkcs11js';
import type * as P11 from 'pkcs11js';
import { KeystrataError } from '../errors/keystrata-error.js';
import { ckrName } from './pkcs11-errors.js';

/**
 * A loaded PKCS#11 module, shared by every root key of the process that uses the same path:
 * `C_Initialize` runs once, `C_Finalize` when the last user closes. `generation` grows on every
 * re-initialisation, so users know their session handles are stale.
 */
export interface Pkcs11Module {
  readonly pkcs11: P11.PKCS11;
  readonly path: string;
  readonly generation: number;
  /** Finalises and initialises the module again (single-flight across users). */
  reinitialise(seenGeneration: number): Promise<void>;
  release(): void;
}

interface Entry {
  module: Pkcs11Module & { generation: number };
  users: number;
  reinit?: Promise<void>;
}

// One registry per process, even when the ESM (dist/) and CommonJS (dist/cjs/) builds both load:
// two copies each calling C_Finalize would close the other's sessions.
const modules: Map<string, Entry> = ((globalThis as Record<symbol, unknown>)[Symbol.for('keystrata.pkcs11-modules.v1')] ??= new Map<string, Entry>()) as Map<string, Entry>;

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
      generation: 0,
      async reinitialise(seen) {
        if (entry.module.generation !== seen) return;
        entry.reinit ??= (async () => {
          try { pkcs11.C_Finalize(); } catch { /* already gone */ }
          initialise(pkcs11);
          entry.module.generation++;
        })().finally(() => { entry.reinit = undefined; });
        await entry.reinit;
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
