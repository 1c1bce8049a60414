import type { FieldContext } from '../envelope/field-context.js';

/**
 * One stored record of a segment, with its encrypted fields.
 *
 * @example
 * ```ts
 * // In a hook's `scan`: the segment's rows in a stable order (here by id), each with its encrypted fields.
 * const records: ReencryptionRecord[] = rows.map((row) => ({
 *   id: row.id,
 *   fields: [{ field: 'ssn', ciphertext: row.ssn, context: { model: 'Patient', field: 'ssn', recordId: row.id, segment } }],
 * }));
 * return { records, cursor: rows.at(-1)?.id ?? null };
 * ```
 */
export interface ReencryptionRecord {
  /** The record's primary key, as the adapter will find it again. */
  readonly id: string;
  readonly fields: ReadonlyArray<{ readonly field: string; readonly ciphertext: string; readonly context: FieldContext }>;
}

/**
 * One record's new ciphertexts, with the ones they replace (for compare-and-swap).
 *
 * @example
 * ```ts
 * // A hook's `write` for a model with one encrypted column (ssn): compare-and-swap, count real changes.
 * async function write(updates: readonly ReencryptionUpdate[]): Promise<number> {
 *   let changed = 0;
 *   for (const { id, fields: [ssn] } of updates) changed += await db.run('UPDATE patient SET ssn = ? WHERE id = ? AND ssn = ?', [ssn!.next, id, ssn!.previous]);
 *   return changed;
 * }
 * ```
 */
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
