import { createHmac, randomBytes } from 'node:crypto';

/** A random key that lives only as long as this process: PIN fingerprints mean nothing outside it. */
const processKey = randomBytes(32);

/** What this process knows about logins to one token; fingerprints only, never a PIN. */
export interface TokenLogins {
  /** Fingerprint of the PIN this process logged in with (the token session login is process-wide). */
  loggedIn: string | undefined;
  /** Fingerprints of PINs the token rejected: they are never sent to C_Login again. */
  readonly refused: Set<string>;
}

const tokens = new Map<string, TokenLogins>();

/**
 * An HMAC-SHA256 of the PIN under a random per-process key, so the process can tell PINs apart
 * (a PIN that failed, a second root key with another PIN) without keeping any PIN.
 *
 * @example
 * ```ts
 * if (logins.refused.has(pinFingerprint(pin))) refuse();
 * ```
 */
export function pinFingerprint(pin: string): string {
  return createHmac('sha256', processKey).update('keystrata-pin-v1\0').update(pin, 'utf8').digest('base64');
}

/**
 * The process-wide login record of one token, identified by module path, serial number and label.
 *
 * @example
 * ```ts
 * const logins = tokenLogins(`${modulePath}|${serial}|${label}`);
 * ```
 */
export function tokenLogins(token: string): TokenLogins {
  let logins = tokens.get(token);
  if (logins === undefined) {
    logins = { loggedIn: undefined, refused: new Set() };
    tokens.set(token, logins);
  }
  return logins;
}
