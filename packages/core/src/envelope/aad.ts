import type { FieldContext } from './field-context.js';
import { FLAG_RECORD_BOUND } from './envelope-format.js';

/**
 * The additional authenticated data of an envelope:
 * header ‖ len(model) ‖ model ‖ len(field) ‖ field ‖ len(recordId) ‖ recordId,
 * lengths as 4-byte big-endian, strings as UTF-8; the record id only when the header says so.
 *
 * @example
 * ```ts
 * const aad = buildAad(header, { model: 'Patient', field: 'ssn', recordId: 'p_1' });
 * ```
 */
export function buildAad(header: Buffer, context: FieldContext): Buffer {
  const recordId = (header[1]! & FLAG_RECORD_BOUND) !== 0 ? (context.recordId ?? '') : '';
  const model = Buffer.byteLength(context.model);
  const field = Buffer.byteLength(context.field);
  const record = Buffer.byteLength(recordId);
  const aad = Buffer.allocUnsafe(header.length + 12 + model + field + record);
  let offset = header.copy(aad, 0);
  offset = aad.writeUInt32BE(model, offset);
  offset += aad.write(context.model, offset, 'utf8');
  offset = aad.writeUInt32BE(field, offset);
  offset += aad.write(context.field, offset, 'utf8');
  offset = aad.writeUInt32BE(record, offset);
  aad.write(recordId, offset, 'utf8');
  return aad;
}

/**
 * Header flags for a context: record-bound when it carries a record id.
 *
 * @example
 * ```ts
 * flagsFor({ model: 'Patient', field: 'ssn', recordId: 'p_1' }); // FLAG_RECORD_BOUND
 * ```
 */
export function flagsFor(context: FieldContext): number {
  return context.recordId !== undefined && context.recordId !== '' ? FLAG_RECORD_BOUND : 0;
}
