import type { KeystrataRuntime } from '../extension/runtime.js';
import type { Row } from '../util/plain.js';
import type { UpdateNode } from './nodes.js';
import { whereEquals, writtenValue } from './scalar-value.js';

/**
 * The id / segment fields an update already carries (its `data`, then its unique `where`), and
 * whether that is everything encrypting it needs (never for a segment function, whose inputs
 * Keystrata cannot know: those updates always read the record).
 *
 * @example
 * ```ts
 * knownContext(rt, { model: 'Patient', data: { ssn: 'x' }, where: { id: 'p1' } }); // { row: { id: 'p1' }, complete: false }
 * ```
 */
export function knownContext(rt: KeystrataRuntime, node: Pick<UpdateNode, 'model' | 'data' | 'where'>): { row: Row; complete: boolean } {
  const row: Row = {};
  for (const field of rt.contextFields(node.model)) {
    const value = writtenValue(node.data[field]) ?? whereEquals(node.where, field);
    if (value !== undefined && value !== null) row[field] = value;
  }
  const complete = !rt.functionPolicy && rt.contextFields(node.model).every((f) => row[f] !== undefined);
  return { row, complete };
}

/**
 * The selection a context lookup reads: the id and tenant field, or every plain scalar for a
 * segment function.
 *
 * @example
 * ```ts
 * contextSelect(rt, 'Patient'); // { id: true, tenantId: true }
 * ```
 */
export function contextSelect(rt: KeystrataRuntime, model: string): Row {
  const entry = rt.model(model)!;
  const encrypted = new Set(entry.encrypted.map((f) => f.field));
  const fields = rt.functionPolicy ? Object.keys(entry.scalars).filter((f) => !encrypted.has(f)) : rt.contextFields(model);
  return Object.fromEntries((fields.length > 0 ? fields : Object.keys(entry.scalars).slice(0, 1)).map((f) => [f, true]));
}

/**
 * A looked-up record without its ciphertexts, as a segment source.
 *
 * @example
 * ```ts
 * contextOf(rt, 'Patient', fetched); // { id, tenantId, … } without ssn/email
 * ```
 */
export function contextOf(rt: KeystrataRuntime, model: string, fetched: Row): Row {
  const out = { ...fetched };
  for (const spec of rt.model(model)?.encrypted ?? []) delete out[spec.field];
  return out;
}
