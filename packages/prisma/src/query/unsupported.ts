import { KeystrataError } from '@keystrata/core';

/**
 * The error for a query Keystrata refuses because it cannot run on ciphertext (instead of
 * letting it silently match nothing). Messages name fields and operators, never values.
 *
 * @example
 * ```ts
 * throw unsupported('Patient.ssn is encrypted: "contains" cannot run on ciphertext.');
 * ```
 */
export function unsupported(message: string): KeystrataError {
  return new KeystrataError('QUERY_UNSUPPORTED', `${message} Nothing was sent to the database.`);
}
