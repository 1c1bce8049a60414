import type { KeystrataRuntime } from '../extension/runtime.js';
import { isPlainObject, type Row } from '../util/plain.js';
import { writtenValue } from './scalar-value.js';
import type { CreateNode, UpdateNode } from './nodes.js';

interface Scratch {
  readonly model: string;
  readonly row: Row;
  readonly target: Row;
}

function scratchOf(rt: KeystrataRuntime, node: CreateNode | UpdateNode): Scratch {
  const data = node.data;
  const row: Row = 'context' in node ? { ...node.context } : {};
  for (const key of Object.keys(data)) {
    const value = data[key];
    // Scalars as they are (the common case, no call); `{ set: v }` unwrapped; relation writes left out.
    const written = typeof value === 'object' && value !== null ? writtenValue(value) : value;
    if (written !== undefined && !isPlainObject(written) && !Array.isArray(written)) row[key] = written;
  }
  for (const spec of rt.model(node.model)!.encrypted) if (data[spec.field] !== undefined) row[spec.field] = data[spec.field];
  return { model: node.model, row, target: node.data };
}

/**
 * Encrypts every gathered write with the core RecordEncryptor, one batch per model, on scratch
 * rows (the record's known fields: an update's context overlaid with the values it writes); envelopes and blind
 * indexes are then copied into the query's `data`. All or nothing: on any error (HSM
 * unreachable, key revoked, segment unknown) no argument was changed and the query is never sent.
 *
 * @example
 * ```ts
 * await encryptWrites(rt, writes.creates, resolvedUpdates);
 * ```
 */
export async function encryptWrites(rt: KeystrataRuntime, creates: readonly CreateNode[], updates: readonly UpdateNode[]): Promise<void> {
  const scratches = [...creates, ...updates].map((node) => scratchOf(rt, node));
  const byModel = new Map<string, Row[]>();
  for (const s of scratches) {
    const rows = byModel.get(s.model);
    if (rows === undefined) byModel.set(s.model, [s.row]);
    else rows.push(s.row);
  }
  for (const [model, rows] of byModel) await rt.records.encrypt(model, rows);
  for (const { model, row, target } of scratches) {
    for (const spec of rt.model(model)!.encrypted) {
      if (target[spec.field] === undefined || target[spec.field] === null) continue;
      target[spec.field] = row[spec.field];
      if (spec.index !== undefined) target[spec.index] = row[spec.index];
    }
  }
}
