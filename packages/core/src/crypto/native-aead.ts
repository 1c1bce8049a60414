import { KeystrataError } from '../errors/keystrata-error.js';

/** How a hierarchy chooses which AES-256-GCM seals and opens field values (`native` addon or `node:crypto`, the same bytes either way): `auto` uses the addon when it loaded. */
export type AeadChoice = 'auto' | 'native' | 'node:crypto';

/** The addon's key handle, as the core uses it (the structural part of `@keystrata/native`'s `AeadKey`). */
export interface NativeAeadKey {
  release(): void;
}

/** What the core uses of `@keystrata/native` (declared here so core's types never need the package). */
export interface NativeAeadModule {
  readonly available: boolean;
  readonly loadFailure: string | undefined;
  readonly AeadKey: new (bytes: Uint8Array) => NativeAeadKey;
  readonly MacKey: new (bytes: Uint8Array) => NativeAeadKey;
  readonly SEAL_STRIDE: number;
  readonly OPEN_STRIDE: number;
  readonly MAC_STRIDE: number;
  hmacBatch(keys: readonly NativeAeadKey[], table: Uint32Array, input: Uint8Array, output: Uint8Array, status: Uint8Array): number;
  sealBatch(keys: readonly NativeAeadKey[], table: Uint32Array, input: Uint8Array, output: Uint8Array, status: Uint8Array): number;
  openBatch(keys: readonly NativeAeadKey[], table: Uint32Array, input: Uint8Array, output: Uint8Array, status: Uint8Array): number;
}

/** The addon, or why it is not used. */
export type NativeAeadLoad = { readonly module: NativeAeadModule } | { readonly module: undefined; readonly reason: string };

// One load per process, shared by the ESM and CommonJS builds of the core.
const LOADED = Symbol.for('keystrata.native-aead');
const WARNED = Symbol.for('keystrata.native-aead.warned');
type Registry = { [LOADED]?: Promise<NativeAeadLoad>; [WARNED]?: boolean };

async function importAddon(): Promise<NativeAeadLoad> {
  try {
    const specifier = '@keystrata/native';
    const module = (await import(specifier)) as NativeAeadModule;
    if (module.available === true) return { module };
    return { module: undefined, reason: module.loadFailure ?? 'the addon did not load' };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return { module: undefined, reason: code === 'ERR_MODULE_NOT_FOUND' ? '@keystrata/native is not installed' : `@keystrata/native failed to load (${typeof code === 'string' ? code : 'error'})` };
  }
}

/**
 * Loads `@keystrata/native` once per process (an optional dependency of the core): the module when
 * its addon is built, else the reason it is not used.
 *
 * @example
 * ```ts
 * const load = await loadNativeAead();
 * if (load.module === undefined) console.log(`node:crypto: ${load.reason}`);
 * ```
 */
export function loadNativeAead(): Promise<NativeAeadLoad> {
  const registry = globalThis as Registry;
  registry[LOADED] ??= importAddon();
  return registry[LOADED];
}

/** `KEYSTRATA_AEAD` (`auto`, `native`, `node:crypto` or `node`) when the option is not given. */
function choiceOf(option: AeadChoice | undefined): AeadChoice {
  if (option !== undefined) {
    if (option !== 'auto' && option !== 'native' && option !== 'node:crypto') throw new KeystrataError('CONFIG_INVALID', 'aead must be "auto", "native" or "node:crypto".');
    return option;
  }
  const env = process.env.KEYSTRATA_AEAD;
  if (env === undefined || env === '' || env === 'auto') return 'auto';
  if (env === 'node' || env === 'node:crypto') return 'node:crypto';
  if (env === 'native') return 'native';
  throw new KeystrataError('CONFIG_INVALID', 'KEYSTRATA_AEAD must be "auto", "native" or "node".');
}

/**
 * The AES-GCM implementation for a hierarchy: the addon when chosen or available, else
 * `node:crypto` (identical output), said once per process with a warning when the addon was wanted
 * but is missing. `native` without the addon is `CONFIG_INVALID`.
 *
 * @example
 * ```ts
 * const aead = await chooseAead(options.aead); // undefined: node:crypto
 * ```
 */
export async function chooseAead(option: AeadChoice | undefined): Promise<NativeAeadModule | undefined> {
  const choice = choiceOf(option);
  if (choice === 'node:crypto') return undefined;
  const load = await loadNativeAead();
  if (load.module !== undefined) return load.module;
  if (choice === 'native') {
    throw new KeystrataError('CONFIG_INVALID', `aead "native" was asked for, but the native AES-GCM addon is unavailable: ${load.reason}.`, {
      hint: 'Rebuild it (`npm rebuild @keystrata/native`, needs a C compiler and Python), or use aead "auto" / KEYSTRATA_AEAD=auto to fall back to node:crypto.',
    });
  }
  const registry = globalThis as Registry;
  if (registry[WARNED] !== true) {
    registry[WARNED] = true;
    process.emitWarning(`Keystrata uses node:crypto for field encryption (same output, slower): ${load.reason}.`, { code: 'KEYSTRATA_AEAD_FALLBACK' });
  }
  return undefined;
}
