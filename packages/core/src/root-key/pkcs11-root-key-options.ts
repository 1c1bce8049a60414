import pkcs11js from 'pkcs11js';
import { KeystrataError } from '../errors/keystrata-error.js';
import { assertPinSource, type PinSource } from './pin-source.js';
import type { TokenSelector } from './pkcs11-session-pool.js';

/**
 * Options for {@link Pkcs11RootKey.open}: any PKCS#11 module works by configuration alone.
 *
 * @example
 * ```ts
 * const options: Pkcs11RootKeyOptions = {
 *   module: '/usr/lib/softhsm/libsofthsm2.so', tokenLabel: 'keystrata', pin: { file: '/run/secrets/hsm-pin' },
 *   sessions: 8, moduleEnvironment: { SOFTHSM2_CONF: '/etc/softhsm/softhsm2.conf' },
 * };
 * // NSS softoken instead: module '/usr/lib/x86_64-linux-gnu/libsoftokn3.so',
 * // libraryParameters: "configdir='sql:/var/lib/nssdb' certPrefix='' keyPrefix='' secmod='secmod.db' flags="
 * const rootKey = await Pkcs11RootKey.open(options);
 * ```
 */
export interface Pkcs11RootKeyOptions extends TokenSelector {
  /** Path of the PKCS#11 module, e.g. `/usr/lib/softhsm/libsofthsm2.so`. */
  readonly module: string;
  /** Where the user PIN comes from; it is never logged or kept. */
  readonly pin: PinSource;
  /** Logged-in sessions kept open (default 4). */
  readonly sessions?: number;
  /** Label of the audit MAC key (default `keystrata-audit`). */
  readonly auditKeyLabel?: string;
  /** Environment set before the module initialises, e.g. `{ SOFTHSM2_CONF: '…' }`. */
  readonly moduleEnvironment?: Readonly<Record<string, string>>;
  /**
   * The module's C_Initialize library parameters, for modules configured that way, e.g. NSS
   * softoken: `configdir='sql:/var/lib/keystrata/nssdb' certPrefix='' keyPrefix='' secmod='secmod.db' flags=`
   * (docs/hsm-portability.md). Not sent when absent. Every root key of a process on one module
   * must give the same value (the module is initialised once).
   */
  readonly libraryParameters?: string;
  /**
   * Run the slow calls (generate, wrap, unwrap, sign) on libuv's thread pool instead of the
   * JavaScript thread (default false). Only for slow network HSMs, and only when nothing else in
   * the process closes sessions or finalises the module: SoftHSM2 crashes when that happens while a
   * call runs on another thread.
   */
  readonly threadPool?: boolean;
  /**
   * Accept an audit key created from material (not generated inside the token): set by
   * {@link MemberRootKey} for independent members, which all receive the same audit key.
   */
  readonly acceptImportedAuditKey?: boolean;
}

/** Mechanisms the hierarchy uses besides the KEK wrap (chosen by `chooseWrapMechanism`): CMK/KEK generation, the audit MAC. */
export const REQUIRED_MECHANISMS: ReadonlyArray<readonly [string, number]> = [
  ['CKM_AES_KEY_GEN', pkcs11js.CKM_AES_KEY_GEN],
  ['CKM_GENERIC_SECRET_KEY_GEN', pkcs11js.CKM_GENERIC_SECRET_KEY_GEN],
  ['CKM_SHA256_HMAC', pkcs11js.CKM_SHA256_HMAC],
];

/**
 * Refuses wrong options once, at open, with `CONFIG_INVALID` naming the option.
 *
 * @example
 * ```ts
 * validatePkcs11RootKeyOptions({ module: '/usr/lib/softhsm/libsofthsm2.so', tokenLabel: 'keystrata', pin: { env: 'KEYSTRATA_HSM_PIN' } });
 * ```
 */
export function validatePkcs11RootKeyOptions(options: Pkcs11RootKeyOptions): void {
  if (typeof options?.module !== 'string' || options.module === '') {
    throw new KeystrataError('CONFIG_INVALID', 'module must be the path of a PKCS#11 library.');
  }
  const selectors = [options.tokenLabel, options.slotId, options.slotIndex].filter((s) => s !== undefined);
  if (selectors.length !== 1) throw new KeystrataError('CONFIG_INVALID', 'Give exactly one of tokenLabel, slotId or slotIndex.');
  assertPinSource(options.pin);
  if (options.sessions !== undefined && (!Number.isInteger(options.sessions) || options.sessions < 1 || options.sessions > 64)) {
    throw new KeystrataError('CONFIG_INVALID', 'sessions must be an integer from 1 to 64.');
  }
  if (options.threadPool !== undefined && typeof options.threadPool !== 'boolean') {
    throw new KeystrataError('CONFIG_INVALID', 'threadPool must be true or false.');
  }
  // Precondition: libraryParameters is a non-empty string without NUL when given.
  if (options.libraryParameters !== undefined && (typeof options.libraryParameters !== 'string' || options.libraryParameters === '' || options.libraryParameters.includes('\u0000'))) {
    throw new KeystrataError('CONFIG_INVALID', "libraryParameters must be a non-empty string without NUL characters (the module's C_Initialize parameters), or absent.");
  }
}
