type Row = Record<string, unknown>;

const originals = new WeakMap<object, Map<string, unknown>>();
const sealed = new WeakSet<object>();

/**
 * Remembers the current values of `fields` of a caller's object before they are replaced by
 * ciphertext (first value wins), so {@link restore} can put the plaintext back.
 *
 * @example
 * ```ts
 * remember(entity, ['ssn']); entity.ssn = envelope; … restore(entity);
 * ```
 */
export function remember(row: Row, fields: readonly string[]): void {
  let saved = originals.get(row);
  if (saved === undefined) originals.set(row, (saved = new Map()));
  for (const field of fields) if (!saved.has(field)) saved.set(field, row[field]);
}

/**
 * Puts the remembered plaintext back into a caller's object (after the write, or after it failed).
 *
 * @example
 * ```ts
 * restore(entity); // entity.ssn is plaintext again
 * ```
 */
export function restore(row: unknown): void {
  if (typeof row !== 'object' || row === null) return;
  sealed.delete(row);
  const saved = originals.get(row);
  if (saved === undefined) return;
  originals.delete(row);
  for (const [field, value] of saved) {
    if (value === undefined) delete (row as Row)[field];
    else (row as Row)[field] = value;
  }
}

/**
 * Marks an object whose encrypted fields now hold this adapter's ciphertext, so later hooks of the
 * same write do not encrypt it again.
 *
 * @example
 * ```ts
 * markSealed(valueSet);
 * ```
 */
export function markSealed(row: object): void {
  sealed.add(row);
}

/**
 * Whether {@link markSealed} marked the object (and it was not restored since).
 *
 * @example
 * ```ts
 * if (isSealed(event.entity)) return;
 * ```
 */
export function isSealed(row: unknown): boolean {
  return typeof row === 'object' && row !== null && sealed.has(row);
}
