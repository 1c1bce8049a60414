import type { ErrorCode } from '../errors/error-codes.js';

/**
 * Stands in for a value that could not be decrypted when an adapter is configured with
 * `onUnreadable: 'placeholder'`. It is never the ciphertext and never plaintext.
 *
 * @example
 * ```ts
 * if (UnreadableValue.isInstance(patient.ssn)) render('—');
 * ```
 */
export class UnreadableValue {
  readonly code: ErrorCode;

  constructor(code: ErrorCode) {
    this.code = code;
  }

  static isInstance(value: unknown): value is UnreadableValue {
    return value instanceof UnreadableValue;
  }

  toJSON(): { unreadable: ErrorCode } {
    return { unreadable: this.code };
  }

  toString(): string {
    return `[unreadable: ${this.code}]`;
  }
}
