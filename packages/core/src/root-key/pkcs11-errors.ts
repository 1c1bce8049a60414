import type * as P11 from 'pkcs11js';
import { KeystrataError } from '../errors/keystrata-error.js';

/** PKCS#11 return values after which the session or device must be re-established. */
const LOST = new Set([
  'CKR_SESSION_HANDLE_INVALID',
  'CKR_SESSION_CLOSED',
  'CKR_DEVICE_REMOVED',
  'CKR_DEVICE_ERROR',
  'CKR_TOKEN_NOT_PRESENT',
  'CKR_TOKEN_NOT_RECOGNIZED',
  'CKR_CRYPTOKI_NOT_INITIALIZED',
  'CKR_USER_NOT_LOGGED_IN',
  'CKR_OBJECT_HANDLE_INVALID',
  'CKR_KEY_HANDLE_INVALID',
  'CKR_WRAPPING_KEY_HANDLE_INVALID',
  'CKR_UNWRAPPING_KEY_HANDLE_INVALID',
  'CKR_SLOT_ID_INVALID',
  'CKR_DEVICE_MEMORY',
]);

/** The CKR name of a pkcs11js error, or undefined for anything else. */
export function ckrName(error: unknown): string | undefined {
  if (error instanceof Error && error.name === 'Pkcs11Error' && error.message.startsWith('CKR_')) return error.message.split(/[\s:]/)[0];
  return undefined;
}

/**
 * Whether an error means the session or device was lost (re-initialise and retry once).
 *
 * @example
 * ```ts
 * if (isLostSession(err)) await reconnect();
 * ```
 */
export function isLostSession(error: unknown): boolean {
  const name = ckrName(error);
  return name !== undefined && LOST.has(name);
}

/**
 * Maps a PKCS#11 failure to a typed error; `during` names the operation for the message.
 *
 * @example
 * ```ts
 * throw toKeystrataError(err, 'unwrap KEK');
 * ```
 */
export function toKeystrataError(error: unknown, during: string): KeystrataError {
  if (KeystrataError.isInstance(error)) return error;
  const name = ckrName(error);
  const details = { operation: during, ...(name === undefined ? {} : { ckr: name }) };
  switch (name) {
    case 'CKR_PIN_INCORRECT':
    case 'CKR_PIN_INVALID':
    case 'CKR_PIN_LEN_RANGE':
      return new KeystrataError('HSM_PIN_INCORRECT', 'The HSM rejected the PIN.', { cause: error, details });
    case 'CKR_PIN_LOCKED':
      return new KeystrataError('HSM_PIN_LOCKED', 'The HSM token PIN is locked.', { cause: error, details });
    case 'CKR_GENERAL_ERROR':
    case 'CKR_WRAPPED_KEY_INVALID':
    case 'CKR_WRAPPED_KEY_LEN_RANGE':
    case 'CKR_ENCRYPTED_DATA_INVALID':
    case 'CKR_ENCRYPTED_DATA_LEN_RANGE':
    // NSS softoken: a padded unwrap (CKM_AES_KEY_WRAP_PAD) of a relabelled blob strips "padding" to an invalid AES key length.
    case 'CKR_KEY_SIZE_RANGE':
      if (during.includes('unwrap')) {
        return new KeystrataError('CIPHERTEXT_TAMPERED', `The HSM could not ${during}: the wrapped key failed its integrity check.`, {
          cause: error,
          details,
          hint: 'The key store holds a damaged, edited or foreign wrapped key (this is not about a stored value): restore the key store from a trusted backup and check the audit trail. Nothing was decrypted with it.',
        });
      }
  }
  if (name === undefined || isLostSession(error)) {
    return new KeystrataError('HSM_UNAVAILABLE', `The HSM could not ${during}.`, { cause: error, details });
  }
  return new KeystrataError('HSM_OPERATION_FAILED', `The HSM refused to ${during} (${name}).`, { cause: error, details });
}

/** PKCS#11 session states of a user login (pkcs11js does not export the CKS_ constants). */
const CKS_RO_USER_FUNCTIONS = 1;
const CKS_RW_USER_FUNCTIONS = 3;

/**
 * Whether `session` is logged in as the user. A session logged out under us (C_Logout or a lost
 * login elsewhere in the process) finds no private objects, which must not read as "missing".
 *
 * @example
 * ```ts
 * if (found.length === 0) assertLoggedIn(pkcs11, session);
 * ```
 */
export function isLoggedIn(pkcs11: P11.PKCS11, session: Buffer): boolean {
  try {
    const { state } = pkcs11.C_GetSessionInfo(session);
    return state === CKS_RO_USER_FUNCTIONS || state === CKS_RW_USER_FUNCTIONS;
  } catch {
    return false;
  }
}

/**
 * Throws a CKR_USER_NOT_LOGGED_IN failure (a lost session: re-login and retry once) when `session`
 * is not logged in.
 *
 * @example
 * ```ts
 * if (handles.length === 0) assertLoggedIn(pkcs11, session);
 * ```
 */
export function assertLoggedIn(pkcs11: P11.PKCS11, session: Buffer): void {
  if (isLoggedIn(pkcs11, session)) return;
  const error = new Error('CKR_USER_NOT_LOGGED_IN');
  error.name = 'Pkcs11Error';
  throw error;
}
