import type { FieldContext } from '../envelope/field-context.js';

/** One stored record of a segment, with its encrypted fields. */
export interface ReencryptionRecord {
  /** The record's primary key, as the adapter will find it again. */
  readonly id: string;
  readonly fields: ReadonlyArray<{ readonly field: string; readonly ciphertext: string; readonly context: FieldContext }>;
}

/** One record's new ciphertexts, with the ones they replace (for compare-and-swap). */
export interface ReencryptionUpdate {
  readonly id: string;
  readonly fields: ReadonlyArray<{ readonly field: string; readonly previous: string; readonly next: string }>;
}

/**
 * What an ORM adapter implements so DEK rotation can re-encrypt a segment's data: page through
 * the segment's records in a stable order, and write new ciphertexts back only where the stored
 * value is still the previous one (so a concurrent application write is never overwritten),
 * reporting how many records were really rewritten.
 *
 * @example
 * ```ts
 * const hook: ReencryptionHook = {
 *   async scan({ segment, cursor, limit }) { … return { records, cursor: lastId ?? null }; },
 *   async write(updates) { … return updatedCount; },
 * };
 * ```
 */
export interface ReencryptionHook {
  scan(args: { readonly keyring: string; readonly segment: string; readonly cursor: string | null; readonly limit: number }): Promise<{ records: ReencryptionRecord[]; cursor: string | null }>;
  /**
   * Writes each record's new ciphertexts only where every field still holds its `previous` value
   * (compare-and-swap), and returns how many records it actually changed. A record that a concurrent
   * writer changed since the scan is left alone and not counted: the rotation re-reads and retries it.
   */
  write(updates: readonly ReencryptionUpdate[]): Promise<number>;
  /** Optional total for progress bars. */
  count?(args: { readonly keyring: string; readonly segment: string }): Promise<number>;
}
