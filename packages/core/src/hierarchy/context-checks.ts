import { KeystrataError } from '../errors/keystrata-error.js';
import type { FieldContext } from '../envelope/field-context.js';

/**
 * Segment names starting with this are reserved for Keystrata's own keys.
 *
 * @example
 * ```ts
 * import { RESERVED_SEGMENT_PREFIX } from '@keystrata/core/adapter';
 * if (tenant.startsWith(RESERVED_SEGMENT_PREFIX)) throw new Error('tenant name is reserved');
 * ```
 */
export const RESERVED_SEGMENT_PREFIX = '__keystrata';

/** `text` has no lone UTF-16 surrogate (cheap for the usual one-byte strings). */
const isWellFormed = (text: string): boolean => (text as string & { isWellFormed(): boolean }).isWellFormed();

/**
 * Validates a field context: a non-empty model and field, string record id / segment / keyring
 * when given, all well-formed Unicode; to encrypt, a segment is required and must not be reserved.
 *
 * @example
 * ```ts
 * checkContext({ model: 'Patient', field: 'ssn', segment: 'tenant:a' }, true);
 * ```
 */
export function checkContext(context: FieldContext, forEncryption: boolean): void {
  if (typeof context !== 'object' || context === null || typeof context.model !== 'string' || context.model === '' || typeof context.field !== 'string' || context.field === '') {
    throw new KeystrataError('CONFIG_INVALID', 'A field context needs a non-empty model and field.');
  }
  const { recordId, segment, keyring } = context;
  // Precondition: the record id, segment and keyring are strings when given.
  if ((recordId !== undefined && typeof recordId !== 'string') || (segment !== undefined && typeof segment !== 'string') || (keyring !== undefined && typeof keyring !== 'string')) {
    throw new KeystrataError('CONFIG_INVALID', "A field context's recordId, segment and keyring must be strings when given (convert a numeric record id with String(id)).");
  }
  // A lone surrogate would be bound into the AAD as U+FFFD and match other contexts.
  // Precondition: the context is well-formed Unicode.
  if (
    !isWellFormed(context.model) ||
    !isWellFormed(context.field) ||
    (recordId !== undefined && !isWellFormed(recordId)) ||
    (segment !== undefined && !isWellFormed(segment)) ||
    (keyring !== undefined && !isWellFormed(keyring))
  ) {
    throw new KeystrataError(
      'CONFIG_INVALID',
      'A field context (model, field, recordId, segment or keyring) contains a lone UTF-16 surrogate, which UTF-8 cannot carry: it would be bound as U+FFFD and match other contexts. Fix the name or id (e.g. String.prototype.toWellFormed()); nothing was read or written.',
    );
  }
  if (forEncryption) {
    if (typeof context.segment !== 'string' || context.segment === '') {
      throw new KeystrataError('CONFIG_INVALID', `Encrypting ${context.model}.${context.field} needs a segment (per record, per tenant, or your own key).`);
    }
    if (context.segment.startsWith(RESERVED_SEGMENT_PREFIX)) {
      throw new KeystrataError('CONFIG_INVALID', `Segment names starting with "${RESERVED_SEGMENT_PREFIX}" are reserved.`);
    }
  }
}

/**
 * Validates a keyring name.
 *
 * @example
 * ```ts
 * checkKeyring('tenant-acme');
 * ```
 */
export function checkKeyring(keyring: string): string {
  if (typeof keyring !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(keyring)) {
    throw new KeystrataError('CONFIG_INVALID', 'A keyring name is 1–64 characters: letters, digits, ".", "_" or "-".');
  }
  return keyring;
}
