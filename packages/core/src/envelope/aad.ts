import type { FieldContext } from './field-context.js';
import { FLAG_RECORD_BOUND, HEADER_LENGTH } from './envelope-format.js';
import { writeUtf8 } from './buffer-direct.js';
import { aadScratch, type Scratch } from './scratch.js';

/** Writes a 4-byte big-endian length, then `text` as UTF-8; returns the new offset. */
function writeLengthPrefixed(target: Buffer, offset: number, text: string): number {
  const length = target.write(text, offset + 4, 'utf8');
  target.writeUInt32BE(length, offset);
  return offset + 4 + length;
}

/**
 * Writes the additional authenticated data of an envelope into `into` and returns its length:
 * header ‖ len(model) ‖ model ‖ len(field) ‖ field ‖ len(recordId) ‖ recordId,
 * lengths as 4-byte big-endian, strings as UTF-8; the record id only when the header says so.
 * `header` is read from its first {@link HEADER_LENGTH} bytes (an envelope body will do).
 *
 * @example
 * ```ts
 * const length = writeAad(aadScratch, body, { model: 'Patient', field: 'ssn', recordId: 'p_1' });
 * ```
 */
export function writeAad(into: Scratch, header: Uint8Array, context: FieldContext): number {
  const recordId = (header[1]! & FLAG_RECORD_BOUND) !== 0 ? (context.recordId ?? '') : '';
  // A UTF-16 code unit is at most 3 bytes of UTF-8, so this always fits.
  const aad = into.take(HEADER_LENGTH + 12 + 3 * (context.model.length + context.field.length + recordId.length));
  for (let i = 0; i < HEADER_LENGTH; i++) aad[i] = header[i]!;
  const offset = writeLengthPrefixed(aad, HEADER_LENGTH, context.model);
  return writeLengthPrefixed(aad, writeLengthPrefixed(aad, offset, context.field), recordId);
}

/**
 * The additional authenticated data of an envelope as a new buffer (see {@link writeAad}).
 *
 * @example
 * ```ts
 * const aad = buildAad(header, { model: 'Patient', field: 'ssn', recordId: 'p_1' });
 * ```
 */
export function buildAad(header: Buffer, context: FieldContext): Buffer {
  const length = writeAad(aadScratch, header, context);
  return Buffer.from(aadScratch.current.subarray(0, length));
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

/** len(model) ‖ model ‖ len(field) ‖ field, per (model, field); bounded (cleared when full). */
const namePrefixes = new Map<string, Map<string, Buffer>>();
const MAX_NAME_PREFIXES = 4096;
let namePrefixCount = 0;

function namePrefix(model: string, field: string): Buffer {
  let byField = namePrefixes.get(model);
  const cached = byField?.get(field);
  if (cached !== undefined) return cached;
  if (namePrefixCount >= MAX_NAME_PREFIXES) {
    namePrefixes.clear();
    namePrefixCount = 0;
  }
  const bytes = Buffer.allocUnsafe(8 + 3 * (model.length + field.length));
  const end = writeLengthPrefixed(bytes, writeLengthPrefixed(bytes, 0, model), field);
  const prefix = Buffer.from(bytes.subarray(0, end));
  if (byField === undefined) namePrefixes.set(model, (byField = new Map()));
  byField.set(field, prefix);
  namePrefixCount++;
  return prefix;
}

/**
 * The batch form of {@link writeAad}: writes the same AAD bytes at `target[at…]`, the header read
 * from `source[headerAt…]`, with the model and field part cached per pair. `target` must have
 * {@link aadCapacity} bytes free at `at`. Returns the AAD's length.
 *
 * @example
 * ```ts
 * const length = writeAadAt(input, at, bodies, bodyAt, { model: 'Patient', field: 'ssn', recordId: 'p_1' });
 * ```
 */
export function writeAadAt(target: Buffer, at: number, source: Uint8Array, headerAt: number, context: FieldContext): number {
  // TypedArray copies and a direct UTF-8 write, not Buffer#copy / Buffer#write: a few dozen bytes per value, where their argument parsing costs more than the copy.
  const recordId = (source[headerAt + 1]! & FLAG_RECORD_BOUND) !== 0 ? (context.recordId ?? '') : '';
  if (source === target) target.copyWithin(at, headerAt, headerAt + HEADER_LENGTH);
  else for (let i = 0; i < HEADER_LENGTH; i++) target[at + i] = source[headerAt + i]!;
  const prefix = namePrefix(context.model, context.field);
  target.set(prefix, at + HEADER_LENGTH);
  const offset = at + HEADER_LENGTH + prefix.length;
  const length = writeUtf8(target, offset + 4, recordId);
  target[offset] = length >>> 24;
  target[offset + 1] = (length >>> 16) & 0xff;
  target[offset + 2] = (length >>> 8) & 0xff;
  target[offset + 3] = length & 0xff;
  return offset + 4 + length - at;
}

/**
 * Bytes {@link writeAadAt} may need for `context` (an upper bound).
 *
 * @example
 * ```ts
 * const at = input.reserve(aadCapacity(context));
 * ```
 */
export function aadCapacity(context: FieldContext): number {
  return HEADER_LENGTH + 12 + 3 * (context.model.length + context.field.length + (context.recordId?.length ?? 0));
}
