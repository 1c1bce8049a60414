import { createHmac, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { encodeFieldValue, type FieldValue } from '@keystrata/core/adapter';

const PROCESS_KEY = randomBytes(32);

/**
 * A query parameter standing for the blind index of a plaintext (`where: { email: 'x' }` becomes
 * `emailIndex = <token>`). TypeORM builds queries synchronously; the adapter's query runner
 * replaces tokens with the real indexes just before the query runs. It never prints its value.
 *
 * @example
 * ```ts
 * new BlindIndexToken('Patient', 'email', 'ada@example.com');
 * ```
 */
export class BlindIndexToken {
  readonly model: string;
  readonly field: string;
  readonly #value: FieldValue;

  constructor(model: string, field: string, value: FieldValue) {
    this.model = model;
    this.field = field;
    this.#value = value;
    encodeFieldValue(value).fill(0); // rejects unsupported types now, with PLAINTEXT_REJECTED
  }

  /** The plaintext to index. */
  get value(): FieldValue {
    return this.#value;
  }

  /** A per-process keyed fingerprint (query-cache keys differ per value, nothing is revealed). */
  toJSON(): string {
    const bytes = encodeFieldValue(this.#value);
    try {
      return `keystrata-index:${createHmac('sha256', PROCESS_KEY).update(`${this.model}\u0000${this.field}\u0000`).update(bytes).digest('base64url')}`;
    } finally {
      bytes.fill(0);
    }
  }

  toString(): string {
    return `[blind index of ${this.model}.${this.field}]`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}
