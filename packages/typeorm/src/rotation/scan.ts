import type { ReencryptionRecord } from '@keystrata/core';
import type { EntityInfo } from '../entity/entity-info.js';
import type { AdapterState } from '../state.js';
import { idString } from '../write/ids.js';
import { inSegment, segmentFilter } from './segment-filter.js';

/**
 * One page of an entity's records in a segment, in primary-key order after `after`, read raw
 * (ciphertext). `next` is the last key of a full page, null at the end.
 *
 * @example
 * ```ts
 * const { records, next } = await scanEntity(state, info, 'tenantId:acme', null, 200);
 * ```
 */
export async function scanEntity(state: AdapterState, info: EntityInfo, segment: string, after: string | null, limit: number): Promise<{ records: ReencryptionRecord[]; next: string | null }> {
  const filter = segmentFilter(state, info, segment);
  if (filter === 'none') return { records: [], next: null };
  const qb = state.dataSource.createQueryBuilder(info.metadata.target, 'e').orderBy(`e.${info.idField}`, 'ASC').limit(limit);
  if (after !== null) qb.andWhere(`e.${info.idField} > :after`, { after });
  if (filter !== 'all') qb.andWhere(`e.${filter.property} = :segmentValue`, { segmentValue: filter.value });
  const rows = (await qb.getRawMany()) as Record<string, unknown>[];
  const columns = info.metadata.columns.filter((c) => c.embeddedMetadata === undefined);
  const records: ReencryptionRecord[] = [];
  for (const row of rows) {
    const record = Object.fromEntries(columns.map((c) => [c.propertyName, row[`e_${c.databaseName}`]]));
    const id = idString(record[info.idField])!;
    if (!inSegment(state, info, record, segment)) continue;
    const fields = info.fields
      .filter((f) => typeof record[f.field] === 'string')
      .map((f) => ({
        field: f.field,
        ciphertext: record[f.field] as string,
        context: { model: info.model, field: f.field, recordId: state.bindRecordId ? id : undefined, segment, keyring: state.keyring },
      }));
    if (fields.length > 0) records.push({ id: JSON.stringify([info.model, id]), fields });
  }
  const last = rows.at(-1);
  return { records, next: rows.length < limit || last === undefined ? null : idString(last[`e_${info.metadata.primaryColumns[0]!.databaseName}`])! };
}
