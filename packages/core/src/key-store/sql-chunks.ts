/** Largest `IN (…)` list sent in one statement (SQLite's default limit on parameters is 999). */
export const IN_CHUNK = 900;

/**
 * `?, ?, …` for `n` parameters.
 *
 * @example
 * ```ts
 * `SELECT * FROM keystrata_dek WHERE id IN (${placeholders(ids.length)})`;
 * ```
 */
export const placeholders = (n: number): string => Array.from({ length: n }, () => '?').join(', ');

/**
 * `items` in slices of at most `size`.
 *
 * @example
 * ```ts
 * for (const part of chunks(ids, IN_CHUNK)) await query(`… IN (${placeholders(part.length)})`, part);
 * ```
 */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
