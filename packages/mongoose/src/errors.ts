import { KeystrataError } from '@keystrata/core';

/**
 * A QUERY_UNSUPPORTED error naming the path and what was asked of it (never a value).
 *
 * @example
 * ```ts
 * throw unsupported('Patient.ssn', '$regex', 'Encrypted paths only support equality through a blind index.');
 * ```
 */
export function unsupported(where: string, what: string, hint: string): KeystrataError {
  return new KeystrataError('QUERY_UNSUPPORTED', `${what} on ${where} cannot work on ciphertext. ${hint}`, { details: { path: where, operation: what } });
}

/**
 * A CONFIG_INVALID error for the plugin's options or the schema.
 *
 * @example
 * ```ts
 * throw configError('segment is required.');
 * ```
 */
export function configError(message: string): KeystrataError {
  return new KeystrataError('CONFIG_INVALID', `keystrata plugin: ${message}`);
}
