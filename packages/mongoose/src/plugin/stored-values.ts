import { isDocument, type Target } from './paths.js';

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
