import type { Schema, SchemaType } from 'mongoose';
import { configError } from '../errors.js';
import { checkMarkerSpelling, misspeltInside } from './marker-spelling.js';

/** What a path declares: `encrypted: true`, `encrypted: { index }`, or nothing. */
export type Marker = boolean | { index?: unknown } | undefined;
/** Schema types an encrypted path may have. */
export const ALLOWED = new Set(['String', 'Mixed']);

/**
 * The `encrypted` option of a path.
 *
 * @example
 * ```ts
 * markerOf(schema.path('email')); // { index: 'emailIndex' }
 * ```
 */
export function markerOf(type: SchemaType): Marker {
  return (type.options as { encrypted?: Marker } | undefined)?.encrypted;
}

/**
 * Refuses `encrypted` inside arrays and subdocument schemas (at any depth): the plugin only
 * handles paths of the top-level schema.
 *
 * @example
 * ```ts
 * rejectNested(new Schema({ visits: [new Schema({ note: { type: String, encrypted: true } })] }), ''); // throws CONFIG_INVALID
 * ```
 */
export function rejectNested(schema: Schema, where: string): void {
  for (const child of schema.childSchemas) {
    child.schema.eachPath((path, type) => {
      checkMarkerSpelling(`${where}${child.model.path}.${path}`, type.options as Record<string, unknown> | undefined);
      if (markerOf(type))
        throw configError(`${where}${child.model.path}.${path} is marked encrypted inside an array or subdocument; only paths of the top-level schema (nested objects included) can be encrypted.`);
    });
    rejectNested(child.schema, `${where}${child.model.path}.`);
  }
}

/** Whether a path definition carries `encrypted` anywhere inside (array element, map value, nested array). */
function markedInside(definition: unknown, depth: number): boolean {
  if (depth > 8 || typeof definition !== 'object' || definition === null) return false;
  if (Array.isArray(definition)) return definition.some((d) => markedInside(d, depth + 1));
  if (depth > 0 && Object.getPrototypeOf(definition) !== Object.prototype) return false; // schemas, types, functions
  const record = definition as Record<string, unknown>;
  const marker = record.encrypted;
  // `encrypted: true` or `encrypted: { index }`; not a field named "encrypted" ({ encrypted: Boolean } or { encrypted: { type: … } }).
  if (depth > 0 && (marker === true || (typeof marker === 'object' && marker !== null && !Array.isArray(marker) && !('type' in marker)))) return true;
  if (depth > 0 && misspeltInside(record)) return true; // `Encrypted: true` on an element: refused like the real marker
  return Object.entries(record).some(([key, value]) => key !== 'encrypted' && markedInside(value, depth + 1));
}

/**
 * Refuses `encrypted` on the elements of arrays (also nested arrays) and the values of Maps, and
 * on array or Map paths themselves: Mongoose stores those values without the plugin seeing them
 * one by one, so they would be written as plaintext (issue 12).
 *
 * @example
 * ```ts
 * rejectCollections('tags', schema.path('tags')); // throws CONFIG_INVALID for [{ type: String, encrypted: true }]
 * ```
 */
export function rejectCollections(path: string, type: SchemaType): void {
  const inside = markedInside(type.options, 0);
  const collection = type.instance === 'Array' || type.instance === 'Map' || path.includes('.$');
  if (inside || (collection && markerOf(type))) {
    throw configError(`${path} is an array or Map with encrypted elements; only single String or Mixed paths can be encrypted (store the whole list in one Mixed path with encrypted: true).`);
  }
}
