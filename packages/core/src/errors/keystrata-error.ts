import { inspect } from 'node:util';
import { ERROR_CODES, type ErrorCode } from './error-codes.js';

const marker = Symbol.for('keystrata.error');

/**
 * A cause reduced to what is safe to log: no key bytes, PINs or plaintext.
 *
 * @example
 * ```ts
 * const cause = Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:5432'), { code: 'ECONNREFUSED' });
 * const safe: SafeCause | undefined = new KeystrataError('KEYSTORE_UNAVAILABLE', 'A query failed.', { cause }).cause;
 * // { name: 'Error', code: 'ECONNREFUSED', message: '(message withheld)' }: the address never reaches a log
 * ```
 */
export interface SafeCause {
  readonly name: string;
  readonly code?: string | number;
  readonly message: string;
}

/**
 * Options for {@link KeystrataError}.
 *
 * @example
 * ```ts
 * const options: KeystrataErrorOptions = { details: { dekId, keyring: 'default' }, cause: error, hint: 'Restore the key store from a backup.' };
 * throw new KeystrataError('KEY_NOT_FOUND', `DEK ${dekId} is not in the key store.`, options);
 * ```
 */
export interface KeystrataErrorOptions {
  /** The underlying error; only its name, code and message (which must be safe) are kept. */
  readonly cause?: unknown;
  /** Non-secret identifiers that help an operator (key ids, versions, labels). */
  readonly details?: Readonly<Record<string, string | number | boolean>>;
  /**
   * What to do, in this situation; replaces the code's generic hint (`ERROR_CODES[code]`) when that
   * would mislead (e.g. a key-wrap failure is `CIPHERTEXT_MALFORMED` but is not about an envelope).
   */
  readonly hint?: string;
}

/**
 * The one error class of Keystrata: a stable `code`, a message that says what to do, and never
 * key bytes, PINs or plaintext in its message, cause or inspection output.
 *
 * @example
 * ```ts
 * try { await hierarchy.decryptValue(value, context); }
 * catch (err) { if (KeystrataError.isInstance(err, 'CIPHERTEXT_TAMPERED')) alert(); }
 * // A hint that fits the situation replaces the code's generic one:
 * new KeystrataError('CIPHERTEXT_MALFORMED', 'The wrapped DEK has an invalid length.', { hint: 'The key store holds a damaged wrapped key; restore it from a backup.' });
 * ```
 */
export class KeystrataError extends Error {
  readonly [marker] = true;
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, string | number | boolean>>;
  /** What to do: the `hint` option, else the code's generic hint. Also the end of `message`. */
  readonly hint: string;
  override readonly cause?: SafeCause;

  constructor(code: ErrorCode, message: string, options: KeystrataErrorOptions = {}) {
    const hint = options.hint ?? ERROR_CODES[code];
    super(`${code}: ${message} ${hint}`);
    this.name = 'KeystrataError';
    this.code = code;
    this.hint = hint;
    this.details = Object.freeze({ ...options.details });
    if (options.cause !== undefined) this.cause = toSafeCause(options.cause);
  }

  /** True for any KeystrataError (also across package copies); with `code`, only that code. */
  static isInstance(value: unknown, code?: ErrorCode): value is KeystrataError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[marker] === true && (code === undefined || (value as KeystrataError).code === code);
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, details: this.details, cause: this.cause };
  }

  [inspect.custom](): string {
    return `KeystrataError [${this.code}] ${this.message}`;
  }
}

function toSafeCause(cause: unknown): SafeCause {
  if (KeystrataError.isInstance(cause)) return { name: cause.name, code: cause.code, message: cause.message };
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    // Only the error's class and code travel: driver messages can quote SQL parameters or input.
    return {
      name: cause.name,
      ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
      message: cause.name === 'Pkcs11Error' ? cause.message : '(message withheld)',
    };
  }
  return { name: typeof cause, message: '(non-error cause withheld)' };
}
