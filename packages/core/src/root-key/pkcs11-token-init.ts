import pkcs11js from 'pkcs11js';
import type * as P11 from 'pkcs11js';
import { KeystrataError } from '../errors/keystrata-error.js';
import { acquirePkcs11Module } from './pkcs11-module.js';
import { toKeystrataError } from './pkcs11-errors.js';

/**
 * Options for {@link initialisePkcs11Token}. PINs travel only through the PKCS#11 API.
 *
 * @example
 * ```ts
 * const options: Pkcs11TokenInitOptions = { module: '/usr/lib/softhsm/libsofthsm2.so', label: 'keystrata-dev', soPin, userPin };
 * await initialisePkcs11Token(options); // then Pkcs11RootKey.open({ module, tokenLabel: 'keystrata-dev', pin })
 * ```
 */
export interface Pkcs11TokenInitOptions {
  /** Path of the PKCS#11 module. */
  readonly module: string;
  /** Environment set before the module initialises, e.g. `{ SOFTHSM2_CONF: '…' }`. */
  readonly moduleEnvironment?: Readonly<Record<string, string>>;
  /** Token label, at most 32 bytes. */
  readonly label: string;
  readonly soPin: string;
  readonly userPin: string;
}

function paddedLabel(label: string): string {
  if (typeof label !== 'string' || label === '' || Buffer.byteLength(label, 'utf8') > 32) {
    throw new KeystrataError('CONFIG_INVALID', 'label must be 1 to 32 bytes.');
  }
  return label + ' '.repeat(32 - Buffer.byteLength(label, 'utf8'));
}

function slotWith(pkcs11: P11.PKCS11, match: (info: P11.TokenInfo) => boolean): Buffer | undefined {
  return pkcs11.C_GetSlotList(true).find((slot) => match(pkcs11.C_GetTokenInfo(slot)));
}

/**
 * Initialises a token in the first free slot with C_InitToken and sets its user PIN with C_InitPIN:
 * no PIN on any command line (local users can read process arguments). For development tokens
 * (SoftHSM2); production HSMs are initialised with their vendor's tools.
 *
 * @example
 * ```ts
 * await initialisePkcs11Token({ module, moduleEnvironment: { SOFTHSM2_CONF: conf }, label: 'keystrata-dev', soPin, userPin });
 * ```
 */
export async function initialisePkcs11Token(options: Pkcs11TokenInitOptions): Promise<void> {
  const label = paddedLabel(options.label);
  if (typeof options.soPin !== 'string' || options.soPin === '' || typeof options.userPin !== 'string' || options.userPin === '') {
    throw new KeystrataError('CONFIG_INVALID', 'soPin and userPin must be non-empty strings.');
  }
  const module = acquirePkcs11Module(options.module, options.moduleEnvironment ?? {});
  const { pkcs11 } = module;
  try {
    const free = slotWith(pkcs11, (info) => (info.flags & pkcs11js.CKF_TOKEN_INITIALIZED) === 0);
    if (free === undefined) throw new KeystrataError('HSM_UNAVAILABLE', `The module ${options.module} has no free slot to initialise a token in.`);
    pkcs11.C_InitToken(free, options.soPin, label);
    // SoftHSM2 moves an initialised token to a new slot: find it again by label.
    const slot = slotWith(pkcs11, (info) => info.label.trim() === options.label.trim() && (info.flags & pkcs11js.CKF_USER_PIN_INITIALIZED) === 0) ?? free;
    const session = pkcs11.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    try {
      pkcs11.C_Login(session, pkcs11js.CKU_SO, options.soPin);
      pkcs11.C_InitPIN(session, options.userPin);
      pkcs11.C_Logout(session);
    } finally {
      pkcs11.C_CloseSession(session);
    }
  } catch (error) {
    throw toKeystrataError(error, 'initialise the token');
  } finally {
    module.release();
  }
}
