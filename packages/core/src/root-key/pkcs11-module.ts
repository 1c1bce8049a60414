import { realpathSync } from 'node:fs';
import pkcs11js from 'pkcs11js';
import type * as P11 from 'pkcs11js';
import { KeystrataError } from '../errors/keystrata-error.js';
import { ckrName } from './pkcs11-errors.js';

/**
 * A loaded PKCS#11 module, shared by every root key of the process that uses the same file (the
 * same real path: a symlink or another spelling of the path reaches the same loaded library):
 * `C_Initialize` runs once, `C_Finalize` only when the last user closes and no call is in flight.
 * Recovery never finalises: a module found uninitialised (someone called `C_Finalize` under us)
 * is initialised again, and sessions are reopened by their pools.
 */
export interface Pkcs11Module {
  readonly pkcs11: P11.PKCS11;
  readonly path: string;
  /** `path` with every symlink resolved: what identifies the module (and its tokens' logins) in this process. */
  readonly realPath: string;
  /**
   * Grows when any user finds the module's sessions lost: every session opened in an earlier
   * generation is stale for every user (session handle numbers are reused after a loss).
   */
  readonly generation: number;
  /** Marks the sessions of `seenGeneration` lost (once, however many users report it). */
  invalidate(seenGeneration: number): void;
  /** Counts a call that uses a session of `generation` as in flight until {@link leave}. */
  enter(generation: number): void;
  leave(generation: number): void;
  /** Resolves when no call that uses a session of an earlier generation is in flight. */
  drained(): Promise<void>;
  /** Initialises the module again if it reports CKR_CRYPTOKI_NOT_INITIALIZED; never finalises. */
  ensureInitialised(): void;
  /**
   * Finalises and initialises the module again, only when one root key uses it and no call is in
   * flight on it; returns whether it did. For a module initialised while its token store was away
   * (NSS softoken with its database directory missing), which does not look again until then.
   */
  reinitialiseIfAlone(): boolean;
  /** Drops one user; the last one finalises the module (callers drain their calls first). */
  release(): void;
}

interface Entry {
  module: Pkcs11Module;
  readonly libraryParameters: string | undefined;
  users: number;
  generation: number;
  readonly inFlight: Map<number, number>;
  drainWaiters: Array<() => void>;
}

function olderInFlight(entry: Entry): boolean {
  for (const [generation, count] of entry.inFlight) if (generation < entry.generation && count > 0) return true;
  return false;
}

// One registry per process, even when the ESM (dist/) and CommonJS (dist/cjs/) builds both load:
// two copies each calling C_Finalize would close the other's sessions.
const modules: Map<string, Entry> = ((globalThis as Record<symbol, unknown>)[Symbol.for('keystrata.pkcs11-modules.v1')] ??= new Map<string, Entry>()) as Map<string, Entry>;

/**
 * C_Initialize, with the module's library parameters when configured (NSS softoken's
 * `configdir='sql:DIR' …`, passed as CK_NSS_C_INITIALIZE_ARGS.LibraryParameters, which other
 * modules must not receive). pkcs11js 2.1 copies the string one byte short (it drops the last
 * character), so a NUL is appended: the module reads exactly the configured text, also once fixed.
 */
function initialise(pkcs11: P11.PKCS11, libraryParameters: string | undefined): void {
  try {
    if (libraryParameters === undefined) pkcs11.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
    else pkcs11.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK, libraryParameters: `${libraryParameters}\u0000` });
  } catch (error) {
    if (ckrName(error) !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') throw error;
  }
}

/**
 * Loads (or shares) the module at `path`, setting `environment` first (e.g. SOFTHSM2_CONF) and
 * initialising it with `libraryParameters` when given. A module is initialised once per process
 * (NSS softoken allows no other), so sharing it with different library parameters is refused.
 *
 * @example
 * ```ts
 * const module = acquirePkcs11Module('/usr/lib/softhsm/libsofthsm2.so', {});
 * ```
 */
export function acquirePkcs11Module(path: string, environment: Readonly<Record<string, string>>, libraryParameters?: string): Pkcs11Module {
  let realPath = path;
  try {
    realPath = realpathSync(path);
  } catch {
    /* missing file: load() below reports it */
  }
  const existing = modules.get(realPath);
  if (existing !== undefined) {
    if (existing.libraryParameters !== libraryParameters) {
      throw new KeystrataError(
        'CONFIG_INVALID',
        `The PKCS#11 module ${path} is already initialised in this process with other library parameters; a module is initialised once per process, so every root key on it must give the same libraryParameters.`,
        { details: { module: path } },
      );
    }
    existing.users++;
    return existing.module;
  }
  for (const [name, value] of Object.entries(environment)) process.env[name] = value;
  const pkcs11 = new pkcs11js.PKCS11();
  try {
    pkcs11.load(path);
    initialise(pkcs11, libraryParameters);
  } catch (error) {
    throw new KeystrataError('HSM_UNAVAILABLE', `Could not load the PKCS#11 module at ${path}.`, { cause: error, details: { module: path } });
  }
  const entry: Entry = {
    libraryParameters,
    users: 1,
    generation: 0,
    inFlight: new Map(),
    drainWaiters: [],
    module: {
      pkcs11,
      path,
      realPath,
      get generation() {
        return entry.generation;
      },
      invalidate(seen) {
        if (seen === entry.generation) entry.generation++;
      },
      enter(generation) {
        entry.inFlight.set(generation, (entry.inFlight.get(generation) ?? 0) + 1);
      },
      leave(generation) {
        const left = (entry.inFlight.get(generation) ?? 1) - 1;
        if (left > 0) entry.inFlight.set(generation, left);
        else entry.inFlight.delete(generation);
        if (!olderInFlight(entry)) for (const wake of entry.drainWaiters.splice(0)) wake();
      },
      async drained() {
        while (olderInFlight(entry)) await new Promise<void>((resolve) => entry.drainWaiters.push(resolve));
      },
      ensureInitialised() {
        try {
          pkcs11.C_GetInfo();
        } catch (error) {
          if (ckrName(error) !== 'CKR_CRYPTOKI_NOT_INITIALIZED') return;
          try {
            // The module reads its environment again (SoftHSM2: SOFTHSM2_CONF); another module may have changed it since.
            for (const [name, value] of Object.entries(environment)) process.env[name] = value;
            initialise(pkcs11, libraryParameters);
          } catch (initialiseError) {
            // Finalised under us and now refusing to start (e.g. its token store is gone): the device is unavailable, whatever the CKR.
            throw new KeystrataError('HSM_UNAVAILABLE', `The PKCS#11 module at ${path} was finalised and cannot be initialised again.`, { cause: initialiseError, details: { module: path } });
          }
        }
      },
      reinitialiseIfAlone() {
        if (entry.users !== 1 || [...entry.inFlight.values()].some((count) => count > 0)) return false;
        try {
          pkcs11.C_Finalize();
        } catch {
          /* not initialised */
        }
        entry.generation++;
        try {
          for (const [name, value] of Object.entries(environment)) process.env[name] = value;
          initialise(pkcs11, libraryParameters);
        } catch (initialiseError) {
          throw new KeystrataError('HSM_UNAVAILABLE', `The PKCS#11 module at ${path} cannot be initialised again.`, { cause: initialiseError, details: { module: path } });
        }
        return true;
      },
      release() {
        if (--entry.users > 0) return;
        modules.delete(realPath);
        try {
          pkcs11.C_Finalize();
        } catch {
          /* already finalised */
        }
        try {
          pkcs11.close();
        } catch {
          /* already closed */
        }
      },
    },
  };
  modules.set(realPath, entry);
  return entry.module;
}
