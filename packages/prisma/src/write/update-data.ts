import type { KeystrataRuntime } from '../extension/runtime.js';
import { unsupported } from '../query/unsupported.js';
import { isPlainObject, type Row } from '../util/plain.js';
import { refuseIndexWrites } from './index-columns.js';
import { whereEquals, writtenValue } from './scalar-value.js';

function refuseContextChange(rt: KeystrataRuntime, model: string, data: Row, where: Row | undefined): void {
  const entry = rt.model(model)!;
  const tenant = rt.tenantField;
  const all = entry.encrypted.every((f) => data[f.field] !== undefined);
  const idChange = entry.id !== null && data[entry.id.field] !== undefined;
  const tenantValue = tenant === undefined ? undefined : writtenValue(data[tenant]);
  const tenantChange = tenantValue !== undefined && tenantValue !== whereEquals(where, tenant!);
  const viaRelation = Object.entries(entry.relations).find(([rel, r]) => data[rel] !== undefined && r.fields.some((f) => f === tenant || f === entry.id?.field));
  if (viaRelation !== undefined)
    throw unsupported(`Writing ${model}.${viaRelation[0]} changes the key field of records with encrypted fields; set the scalar field directly together with every encrypted field.`);
  if ((idChange || tenantChange) && !all) {
    throw unsupported(
      `Changing ${model}.${idChange ? entry.id!.field : tenant} re-binds the record's encrypted fields; write all of them (${entry.encrypted.map((f) => f.field).join(', ')}) in the same update.`,
    );
  }
}

/**
 * Normalises and checks the scalar part of an update's `data` for `model` (in place):
 * `{ set: v }` on encrypted fields becomes `v`, a null value also nulls its blind index, other
 * operators, hand-written indexes and key changes that would strand ciphertext are refused.
 * Returns the encrypted fields that get a new (non-null) value.
 *
 * @example
 * ```ts
 * prepareUpdateData(rt, 'Patient', { ssn: { set: '123' }, email: null }, { id: 'p1' }); // ['ssn']; data.emailIndex = null
 * ```
 */
export function prepareUpdateData(rt: KeystrataRuntime, model: string, data: Row, where: Row | undefined): string[] {
  const entry = rt.model(model);
  if (entry === undefined || entry.encrypted.length === 0) return [];
  refuseIndexWrites(rt, model, data);
  for (const spec of entry.encrypted) {
    const raw = data[spec.field];
    if (isPlainObject(raw) && !(Object.keys(raw).length === 1 && 'set' in raw)) throw unsupported(`${model}.${spec.field} is encrypted: only plain assignment (or { set }) can update it.`);
    const value = writtenValue(raw);
    if (raw !== undefined) data[spec.field] = value;
    if (value === null && spec.index !== undefined) data[spec.index] = null;
  }
  refuseContextChange(rt, model, data, where);
  return entry.encrypted.filter((f) => data[f.field] !== undefined && data[f.field] !== null).map((f) => f.field);
}
