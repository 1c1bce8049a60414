import { isDocument, readPath, writePath, type Target } from './paths.js';

type Row = Record<string, unknown>;

/**
 * The object holding a record's stored values: a hydrated document's `_doc` (what
 * `get(path, null, { getters: false })` reads and `$__setValue` writes; assigning to it runs no
 * setter, cast or change tracking), or the plain object itself. Undefined for a document without one.
 *
 * @example
 * ```ts
 * storedValues(await Patient.findOne()); // { _id, tenantId: 'acme', ssn: 'ks1.…', … }
 * ```
 */
export function storedValues(target: Target): Row | undefined {
  if (!isDocument(target)) return target as Row;
  const stored = (target as unknown as { _doc?: unknown })._doc;
  return typeof stored === 'object' && stored !== null ? (stored as Row) : undefined;
}

/**
 * Reads a schema path the plugin knows (an encrypted path, its blind index, `_id`) as
 * {@link readPath} does: a top-level one straight from the stored values (what
 * `get(path, null, { getters: false })` returns, without its path lookups), a dotted one through `readPath`.
 *
 * @example
 * ```ts
 * readStored(doc, 'ssn'); // doc._doc.ssn
 * ```
 */
export function readStored(target: Target, path: string): unknown {
  const stored = path.includes('.') ? undefined : storedValues(target);
  return stored === undefined ? readPath(target, path) : stored[path];
}

/**
 * Writes a schema path the plugin knows as {@link writePath} does (no setter, cast or change
 * tracking): a top-level one straight into the stored values (what `$__setValue` does), a dotted one through `writePath`.
 *
 * @example
 * ```ts
 * writeStored(doc, 'ssn', 'ks1.…');
 * ```
 */
export function writeStored(target: Target, path: string, value: unknown): void {
  const stored = path.includes('.') ? undefined : storedValues(target);
  if (stored === undefined) writePath(target, path, value);
  else stored[path] = value;
}
