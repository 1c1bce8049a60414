import { createHmac, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { encodeFieldValue, type FieldValue } from '@keystrata/core/adapter';

const PROCESS_KEY = randomBytes(32);

/** What {@link BlindIndexToken.toJSON} returns where no query-result cache reads it. */
const UNCACHED = 'keystrata-index';

/**
 * A query parameter standing for the blind index of a plaintext (`where: { email: 'x' }` becomes
 * `emailIndex = <token>`). TypeORM builds queries synchronously; the adapter's query runner
 * replaces tokens with the real indexes just before the query runs. It never prints its value.
 *
 * @example
 * ```ts
 * new BlindIndexToken('Patient', 'email', 'ada@example.com', dataSource.queryResultCache !== undefined);
 * ```
 */
export class BlindIndexToken {
  readonly model: string;
  readonly field: string;
  readonly #value: FieldValue;
  readonly #cached: boolean;

  /** `cached`: the DataSource has a query-result cache, whose keys must tell values apart (see {@link BlindIndexToken.toJSON}). */
  constructor(model: string, field: string, value: FieldValue, cached = true) {
    this.model = model;
    this.field = field;
    this.#value = value;
    this.#cached = cached;
    encodeFieldValue(value).fill(0); // rejects unsupported types now, with PLAINTEXT_REJECTED
  }

  /** The plaintext to index. */
  get value(): FieldValue {
    return this.#value;
  }

  /**
   * TypeORM serialises every query's parameters into the query id of its result cache. With a
   * cache: a per-process keyed fingerprint (cache keys differ per value, nothing is revealed).
   * Without one the id is never read, so no HMAC is computed for it (issue 16 §W3: one createHmac
   * per lookup, a few µs).
   */
  toJSON(): string {
    if (!this.#cached) return UNCACHED;
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
