import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { kwpUnwrap } from '../crypto/aes-kwp.js';
import { KeystrataError } from '../errors/keystrata-error.js';
import { SecretKey } from '../secret/secret-key.js';
import { lengthPrefixed } from './identity-bytes.js';

/**
 * Prefix of a DEK wrapped in the bound format (version 2); legacy RFC 5649 blobs are plain base64.
 *
 * @example
 * ```ts
 * import { BOUND_DEK_PREFIX } from '@keystrata/core/adapter';
 * const legacy = (await keyStore.listDeks({ limit: 1000 })).filter((dek) => !dek.wrapped.startsWith(BOUND_DEK_PREFIX));
 * ```
 */
export const BOUND_DEK_PREFIX = 'k2.';
const DOMAIN = 'keystrata/dek-wrap/v2';
const IV_LENGTH = 12;
const TAG_LENGTH = 16;
const KEY_LENGTH = 32;

/**
 * Everything a wrapped DEK is bound to: it unwraps only under this identity.
 *
 * @example
 * ```ts
 * const [chain] = await keyStore.loadDekChains([dekId]);
 * const identity: DekIdentity = chain!.dek; // a DekRecord carries its identity
 * isLegacyWrappedDek(chain!.dek.wrapped); // false for a bound `k2.` wrapping, which unwraps only under that identity
 * ```
 */
export interface DekIdentity {
  readonly id: string;
  readonly keyring: string;
  readonly segment: string;
  readonly version: number;
  readonly kekVersion: number;
}

/**
 * The AAD of a bound wrapped DEK: `keystrata/dek-wrap/v2` ‖ lp(keyring) ‖ lp(segment) ‖ lp(id) ‖
 * u32(version) ‖ u32(kekVersion), lp = 4-byte big-endian UTF-8 length then the bytes.
 *
 * @example
 * ```ts
 * dekWrapAad({ id: 'ab…', keyring: 'default', segment: 'tenant:a', version: 1, kekVersion: 1 });
 * ```
 */
export function dekWrapAad(identity: DekIdentity): Buffer {
  return lengthPrefixed(DOMAIN, identity.keyring, identity.segment, identity.id, identity.version, identity.kekVersion);
}

/**
 * Whether a stored wrapped DEK is in the legacy unbound format (RFC 5649, plain base64).
 *
 * @example
 * ```ts
 * isLegacyWrappedDek('k2.…'); // false
 * ```
 */
export function isLegacyWrappedDek(wrapped: string): boolean {
  return !wrapped.startsWith(BOUND_DEK_PREFIX);
}

/**
 * Wraps a DEK under a KEK, bound to its identity: `k2.` + base64(iv ‖ ciphertext ‖ tag), AES-256-GCM
 * with {@link dekWrapAad} as AAD.
 *
 * @example
 * ```ts
 * const wrapped = wrapDek(kek.exposeSecretBytes(), dekBytes, { id, keyring, segment, version: 1, kekVersion: 3 });
 * ```
 */
export function wrapDek(kek: Buffer, dekBytes: Uint8Array, identity: DekIdentity): string {
  return wrapDekWithIv(kek, dekBytes, identity, randomBytes(IV_LENGTH));
}

/**
 * {@link wrapDek} with a caller-chosen IV: the seam the format known-answer vectors use
 * (test/vectors/). Internal, not exported from the package; production code calls `wrapDek`, never
 * this, because an IV reused under one KEK breaks AES-GCM.
 *
 * @example
 * ```ts
 * wrapDekWithIv(kekBytes, dekBytes, identity, Buffer.from(vector.ivHex, 'hex')) === vector.wrapped;
 * ```
 */
export function wrapDekWithIv(kek: Buffer, dekBytes: Uint8Array, identity: DekIdentity, iv: Uint8Array): string {
  // Precondition: a DEK is 32 bytes and a KEK is 32 bytes.
  if (dekBytes.length !== KEY_LENGTH || kek.length !== KEY_LENGTH) throw new KeystrataError('CONFIG_INVALID', 'A DEK and its KEK are 32-byte AES-256 keys.');
  // Precondition: the IV of a bound wrapped DEK is 12 bytes.
  if (iv.length !== IV_LENGTH) throw new KeystrataError('CONFIG_INVALID', 'The IV of a wrapped DEK is 12 bytes.');
  const cipher = createCipheriv('aes-256-gcm', kek, iv, { authTagLength: TAG_LENGTH });
  cipher.setAAD(dekWrapAad(identity));
  const body = Buffer.concat([iv, cipher.update(dekBytes), cipher.final(), cipher.getAuthTag()]);
  return BOUND_DEK_PREFIX + body.toString('base64');
}

const tampered = (identity: DekIdentity, what: string): KeystrataError =>
  new KeystrataError('KEYSTORE_TAMPERED', `The wrapped DEK ${identity.id} (keyring "${identity.keyring}", segment "${identity.segment}") ${what}: its key-store row was edited, swapped or replayed.`, {
    details: { dek: identity.id, keyring: identity.keyring },
  });

/**
 * Unwraps a stored DEK. A bound (`k2.`) blob must match `identity`; a legacy blob is accepted when
 * `legacy` allows it (it carries no identity). Any failure is KEYSTORE_TAMPERED.
 *
 * @example
 * ```ts
 * const dek = unwrapDek(kek.exposeSecretBytes(), record.wrapped, record, { legacy: 'accept' });
 * ```
 */
export function unwrapDek(kek: Buffer, wrapped: string, identity: DekIdentity, options: { legacy: 'accept' | 'refuse' }): SecretKey {
  if (isLegacyWrappedDek(wrapped)) {
    if (options.legacy === 'refuse') throw tampered(identity, 'is in the legacy unbound format, which this key store refuses (it was started with key bindings, or `legacyKeys: "refuse"`)');
    try {
      return kwpUnwrap(kek, Buffer.from(wrapped, 'base64'), KEY_LENGTH);
    } catch {
      throw tampered(identity, 'does not unwrap under its KEK');
    }
  }
  const body = Buffer.from(wrapped.slice(BOUND_DEK_PREFIX.length), 'base64');
  // Precondition: a bound wrapped DEK is iv ‖ 32-byte ciphertext ‖ tag.
  if (body.length !== IV_LENGTH + KEY_LENGTH + TAG_LENGTH) throw tampered(identity, `has the wrong length (${body.length} bytes)`);
  const decipher = createDecipheriv('aes-256-gcm', kek, body.subarray(0, IV_LENGTH), { authTagLength: TAG_LENGTH });
  decipher.setAAD(dekWrapAad(identity));
  decipher.setAuthTag(body.subarray(IV_LENGTH + KEY_LENGTH));
  const out = Buffer.alloc(KEY_LENGTH);
  const first = decipher.update(body.subarray(IV_LENGTH, IV_LENGTH + KEY_LENGTH));
  first.copy(out);
  first.fill(0);
  try {
    decipher.final();
  } catch {
    out.fill(0);
    throw tampered(identity, 'does not match its identity');
  }
  return SecretKey.takeOwnership(out);
}
