import type { ReencryptionRecord } from '@keystrata/core';
import type { KeystrataRuntime } from '../extension/runtime.js';
import type { Row } from '../util/plain.js';
import { delegateName, typedKey } from '../util/keys.js';
import { decodeCursor, encodeCursor, recordKey } from './cursor.js';

type Delegate = { findMany(args: Row): Promise<Row[]> };
/**
 * The filter of a segment's records of one model, or null when it holds none.
 *
 * @example
 * ```ts
 * const where: SegmentWhere = (segment, model) => (model === 'Patient' ? { region: segment.slice(7) } : null);
 * ```
 */
export type SegmentWhere = (segment: string, model: string) => Row | null;

function toRecord(rt: KeystrataRuntime, model: string, row: Row, segment: string): ReencryptionRecord {
  const entry = rt.model(model)!;
  const id = String(row[entry.id!.field]);
  const fields = entry.encrypted
    .filter((f) => typeof row[f.field] === 'string')
    .map((f) => ({
      field: f.field,
      ciphertext: row[f.field] as string,
      context: { model, field: f.field, recordId: rt.bindRecordId ? id : undefined, segment, keyring: rt.keyring },
    }));
  return { id: recordKey(model, id), fields };
}

/**
 * One page of a segment's records for DEK rotation: the models in order, each by ascending id,
 * read through the client under the extension (ciphertext as stored).
 *
 * @example
 * ```ts
 * const page = await scanSegment(rt, ['Patient'], filter, { segment: 'tenantId:acme', cursor: null, limit: 200 });
 * ```
 */
export async function scanSegment(
  rt: KeystrataRuntime,
  models: readonly string[],
  where: SegmentWhere,
  args: { segment: string; cursor: string | null; limit: number },
): Promise<{ records: ReencryptionRecord[]; cursor: string | null }> {
  for (let { model: index, after } = decodeCursor(args.cursor); index < models.length; index++, after = null) {
    const model = models[index]!;
    const filter = where(args.segment, model);
    if (filter === null) continue;
    const id = rt.model(model)!.id!;
    const select = Object.fromEntries([id.field, ...rt.contextFields(model), ...rt.model(model)!.encrypted.map((f) => f.field)].map((f) => [f, true]));
    const conditions = [filter, ...(after === null ? [] : [{ [id.field]: { gt: typedKey(id.type, after) } }])];
    const delegate = (rt.base as Record<string, Delegate>)[delegateName(model)]!;
    const rows = await delegate.findMany({ where: { AND: conditions }, orderBy: { [id.field]: 'asc' }, take: args.limit, select });
    const records = rows.map((row) => toRecord(rt, model, row, args.segment));
    const full = rows.length === args.limit;
    const next = full ? encodeCursor({ model: index, after: String(rows.at(-1)![id.field]) }) : index + 1 < models.length ? encodeCursor({ model: index + 1, after: null }) : null;
    return { records, cursor: next };
  }
  return { records: [], cursor: null };
}
