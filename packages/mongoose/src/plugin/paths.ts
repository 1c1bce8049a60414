import type { Document } from 'mongoose';

/** A stored record as the plugin handles it: a hydrated document or a plain (lean/raw) object. */
export type Target = Document | Record<string, unknown>;
type Row = Record<string, unknown>;

/**
 * True for a hydrated Mongoose document.
 *
 * @example
 * ```ts
 * isDocument(await Patient.findOne()); // true; a lean result is false
 * ```
 */
export function isDocument(value: unknown): value is Document {
  return typeof value === 'object' && value !== null && typeof (value as { $__?: unknown }).$__ === 'object' && typeof (value as Document).get === 'function';
}

/**
 * Reads a dotted path of a plain object.
 *
 * @example
 * ```ts
 * getPath({ address: { street: 'x' } }, 'address.street'); // 'x'
 * ```
 */
export function getPath(obj: Row, path: string): unknown {
  if (!path.includes('.')) return obj[path];
  let current: unknown = obj;
  for (const part of path.split('.')) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Row)[part];
  }
  return current;
}

/**
 * Writes a dotted path of a plain object, creating intermediate objects.
 *
 * @example
 * ```ts
 * setPath(row, 'address.street', 'ks1.…');
 * ```
 */
function setPath(obj: Row, path: string, value: unknown): void {
  const parts = path.split('.');
  let current = obj;
  for (const part of parts.slice(0, -1)) {
    if (typeof current[part] !== 'object' || current[part] === null) current[part] = {};
    current = current[part] as Row;
  }
  current[parts.at(-1)!] = value;
}

/**
 * Reads a path of a document (raw value: no getters) or plain object.
 *
 * @example
 * ```ts
 * readPath(doc, 'ssn'); // the stored value, no getters
 * ```
 */
export function readPath(target: Target, path: string): unknown {
  return isDocument(target) ? target.get(path, null, { getters: false }) : getPath(target, path);
}

/**
 * Writes a stored or decrypted value without setters, casting or change tracking: the value was
 * validated and cast as plaintext before encryption.
 *
 * @example
 * ```ts
 * writePath(doc, 'ssn', '123-45-6789'); // not marked modified
 * ```
 */
export function writePath(target: Target, path: string, value: unknown): void {
  if (isDocument(target)) (target as unknown as { $__setValue(p: string, v: unknown): void }).$__setValue(path, value);
  else setPath(target, path, value);
}
