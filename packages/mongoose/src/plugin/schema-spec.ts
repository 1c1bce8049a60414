import type { SegmentPolicy } from '@keystrata/core/adapter';
import type { Schema } from 'mongoose';
import { configError } from '../errors.js';
import { checkMarkerSpelling } from './marker-spelling.js';
import { ALLOWED, markerOf, rejectCollections, rejectNested } from './schema-markers.js';

/** One encrypted path of a schema and the path of its blind index, if any. */
export interface EncryptedPath {
  readonly path: string;
  readonly index?: string;
}

/** What the plugin needs to know about a schema, computed once per schema object. */
export interface SchemaSpec {
  readonly fields: readonly EncryptedPath[];
  readonly byPath: ReadonlyMap<string, EncryptedPath>;
  /** Blind-index path → the encrypted path it indexes. */
  readonly byIndex: ReadonlyMap<string, EncryptedPath>;
  /** Record fields the segment policy reads: a list, or `all` for a function policy. */
  readonly segmentFields: readonly string[] | 'all';
  /** True when every encrypted path is top-level (documents can be decrypted in place). */
  readonly flat: boolean;
}

/**
 * Reads `encrypted: true` / `encrypted: { index }` from a schema's paths, adds a missing blind-index
 * path (`{ type: String, index: true }`) and refuses what cannot work: misspelt markers
 * (`Encrypted: true`, unknown keys in `encrypted: { … }`), non-String/Mixed types,
 * marked paths inside arrays or subdocuments, an encrypted `_id` or segment field.
 *
 * @example
 * ```ts
 * scanSchema(new Schema({ ssn: { type: String, encrypted: true } }), { by: 'record' }).fields; // [{ path: 'ssn' }]
 * ```
 */
export function scanSchema(schema: Schema, policy: SegmentPolicy): SchemaSpec {
  rejectNested(schema, '');
  const fields: EncryptedPath[] = [];
  schema.eachPath((path, type) => {
    checkMarkerSpelling(path, type.options as Record<string, unknown> | undefined);
    rejectCollections(path, type);
    const marker = markerOf(type);
    if (!marker) return;
    if (path === '_id') throw configError('_id cannot be encrypted.');
    if (!ALLOWED.has(type.instance))
      throw configError(`${path} is a ${type.instance} path; encrypted paths must be String or Mixed (the stored value is an envelope string; Mixed keeps the original type).`);
    const index = marker === true ? undefined : marker.index;
    if (index !== undefined && (typeof index !== 'string' || index === '' || index === path)) throw configError(`${path}: encrypted.index must name another path.`);
    fields.push(index === undefined ? { path } : { path, index });
  });
  for (const f of fields) {
    if (f.index === undefined) continue;
    const existing = schema.path(f.index);
    if (existing === undefined) schema.add({ [f.index]: { type: String, index: true } });
    else if (existing.instance !== 'String' || markerOf(existing)) throw configError(`${f.index} (blind index of ${f.path}) must be a plain String path.`);
  }
  const segmentFields = typeof policy === 'function' ? 'all' : policy.by === 'tenant' ? [policy.field] : [];
  for (const field of segmentFields === 'all' ? [] : segmentFields) {
    if (fields.some((f) => f.path === field || field.startsWith(`${f.path}.`))) throw configError(`the segment field ${field} cannot be encrypted.`);
  }
  return {
    fields,
    byPath: new Map(fields.map((f) => [f.path, f])),
    byIndex: new Map(fields.flatMap((f) => (f.index === undefined ? [] : [[f.index, f] as const]))),
    segmentFields,
    flat: fields.every((f) => !f.path.includes('.')),
  };
}
