import { createHmac, randomBytes } from 'node:crypto';

/** What this process knows about logins to one token; fingerprints only, never a PIN. */
export interface TokenLogins {
  /** Fingerprint of the PIN this process logged in with (the token session login is process-wide). */
  loggedIn: string | undefined;
  /** Fingerprints of PINs the token rejected: they are never sent to C_Login again. */
  readonly refused: Set<string>;
}

/**
 * Shared by every copy of this package loaded in the process (an ESM and a CommonJS copy log in to
 * the same module): a random key that lives only as long as the process, so PIN fingerprints mean
 * nothing outside it, and the login records.
 */
const shared = ((globalThis as Record<symbol, unknown>)[Symbol.for('keystrata.pin-registry.v1')] ??= {
  processKey: randomBytes(32),
  tokens: new Map<string, TokenLogins>(),
}) as { readonly processKey: Buffer; readonly tokens: Map<string, TokenLogins> };
const { processKey, tokens } = shared;

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
