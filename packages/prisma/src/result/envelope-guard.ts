import { KeystrataError } from '@keystrata/core';
import { isEnvelope } from '@keystrata/core/adapter';
import { isPlainObject } from '../util/plain.js';

/**
 * Last line of defence: throws if any `ks1.…` envelope is still in a result the extension is
 * about to return, so a query shape it failed to map can never hand ciphertext to the caller
 * as if it were plaintext.
 *
 * @example
 * ```ts
 * assertNoEnvelope(result, 'Patient.findMany');
 * ```
 */
export function assertNoEnvelope(value: unknown, where: string): void {
  if (isEnvelope(value)) {
    throw new KeystrataError(
      'QUERY_UNSUPPORTED',
      `${where} returned a value Keystrata could not map to an encrypted field; it was withheld. Select encrypted fields through their model (or use decryptRow for raw queries).`,
    );
  }
  if (Array.isArray(value)) for (const item of value) assertNoEnvelope(item, where);
  else if (isPlainObject(value)) {
    for (const key in value) if (typeof value[key] === 'object' || typeof value[key] === 'string') assertNoEnvelope(value[key], where);
  }
}
