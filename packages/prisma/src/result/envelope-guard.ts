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
  if (typeof value === 'string') {
    if (isEnvelope(value)) throw withheld(where);
  } else if (Array.isArray(value)) {
    for (const item of value) if (typeof item === 'string' ? isEnvelope(item) : typeof item === 'object') assertNoEnvelope(item, where);
  } else if (isPlainObject(value)) {
    // Scalars are checked here, without a call per value: a result row is mostly strings and numbers.
    for (const key in value) {
      const item = value[key];
      if (typeof item === 'string' ? isEnvelope(item) : typeof item === 'object' && item !== null) assertNoEnvelope(item, where);
    }
  }
}

function withheld(where: string): KeystrataError {
  return new KeystrataError(
    'QUERY_UNSUPPORTED',
    `${where} returned a value Keystrata could not map to an encrypted field; it was withheld. Select encrypted fields through their model (or use decryptRow for raw queries).`,
  );
}
