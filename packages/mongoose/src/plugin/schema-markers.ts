import type { Schema, SchemaType } from 'mongoose';
import { configError } from '../errors.js';

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
      if (markerOf(type)) throw configError(`${where}${child.model.path}.${path} is marked encrypted inside an array or subdocument; only paths of the top-level schema (nested objects included) can be encrypted.`);
    });
    rejectNested(child.schema, `${where}${child.model.path}.`);
  }
}
