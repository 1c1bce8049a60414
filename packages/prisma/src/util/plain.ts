/**
 * A record, filter or args object as Prisma passes it.
 *
 * @example
 * ```ts
 * const where: Row = { id: 'p1' };
 * ```
 */
export type Row = Record<string, unknown>;

/**
 * True for `{…}` objects (not arrays, dates, buffers, decimals or other class instances).
 *
 * @example
 * ```ts
 * isPlainObject({ a: 1 }); // true
 * isPlainObject(new Date()); // false
 * ```
 */
export function isPlainObject(value: unknown): value is Row {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * A value as an array: arrays as they are, one value as a one-element array, nothing as empty.
 *
 * @example
 * ```ts
 * arrayify({ id: 1 }); // [{ id: 1 }]
 * ```
 */
export function arrayify<T>(value: T | readonly T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? [...(value as T[])] : [value as T];
}

/**
 * Deep copy of plain objects and arrays; other values (dates, buffers, decimals) are shared.
 * Query arguments are copied before they are rewritten, so the caller's objects never receive
 * ciphertext or blind indexes.
 *
 * @example
 * ```ts
 * const copy = clonePlain(args);
 * ```
 */
export function clonePlain<T>(value: T): T {
  if (Array.isArray(value)) return value.map((item: unknown) => clonePlain(item)) as T;
  if (!isPlainObject(value)) return value;
  const out: Row = {};
  for (const [key, item] of Object.entries(value)) out[key] = clonePlain(item);
  return out as T;
}

/**
 * The plain objects of a value that may be one object or a list of them.
 *
 * @example
 * ```ts
 * rowsOf([{ id: 1 }, null]); // [{ id: 1 }]
 * ```
 */
export function rowsOf(value: unknown): Row[] {
  return (Array.isArray(value) ? value : [value]).filter(isPlainObject);
}

/**
 * A `where` with one more condition ANDed to it (its own `AND` list kept).
 *
 * @example
 * ```ts
 * withCondition({ id: 'p1' }, { tenantId: 'acme' }); // { id: 'p1', AND: [{ tenantId: 'acme' }] }
 * ```
 */
export function withCondition(where: Row | undefined, condition: Row): Row {
  return { ...where, AND: [...rowsOf(where?.AND), condition] };
}
