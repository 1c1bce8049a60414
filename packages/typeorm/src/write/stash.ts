type Row = Record<string, unknown>;

/** Per caller object: its original values as flat `field, value` pairs (a row has a few encrypted fields). */
const originals = new WeakMap<object, unknown[]>();
const sealed = new WeakSet<object>();

/**
 * Remembers the current value of `field` of a caller's object before it is replaced by ciphertext
 * (first value wins), so {@link restore} can put the plaintext back.
 *
 * @example
 * ```ts
 * remember(entity, 'ssn'); entity.ssn = envelope; … restore(entity);
 * ```
 */
export function remember(row: Row, field: string): void {
  const saved = originals.get(row);
  if (saved === undefined) {
    originals.set(row, [field, row[field]]);
    return;
  }
  for (let i = 0; i < saved.length; i += 2) if (saved[i] === field) return;
  saved.push(field, row[field]);
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
  for (let i = 0; i < saved.length; i += 2) {
    const field = saved[i] as string;
    if (saved[i + 1] === undefined) delete (row as Row)[field];
    else (row as Row)[field] = saved[i + 1];
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
