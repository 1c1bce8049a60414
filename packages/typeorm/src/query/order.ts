import { KeystrataError } from '@keystrata/core';
import type { EntityMetadata, ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { infoOf, stateOf, type AdapterState } from '../state.js';

function refuse(model: string, field: string): KeystrataError {
  return new KeystrataError('QUERY_UNSUPPORTED', `${model}.${field} is encrypted: ordering or aggregating it would sort ciphertext. Order by an unencrypted column instead.`);
}

/**
 * Refuses a find-options `order` naming an encrypted field of `metadata`.
 *
 * @example
 * ```ts
 * assertOrderable(state, metadata, { email: 'ASC' }); // throws QUERY_UNSUPPORTED
 * ```
 */
export function assertOrderable(state: AdapterState, metadata: EntityMetadata, order: unknown): void {
  const info = infoOf(state, metadata);
  if (info === undefined || typeof order !== 'object' || order === null) return;
  for (const key of Object.keys(order)) if (info.fields.some((f) => f.field === key)) throw refuse(info.model, key);
}

/**
 * Refuses a QueryBuilder sort (`'alias.property'`, or an object of them) on an encrypted field,
 * and aggregates such as MIN/MAX over one.
 *
 * @example
 * ```ts
 * assertSortable(qb, 'p.email'); // throws QUERY_UNSUPPORTED
 * ```
 */
export function assertSortable(qb: SelectQueryBuilder<ObjectLiteral>, sort: unknown): void {
  const state = stateOf(qb.dataSource);
  if (state === undefined || sort === undefined) return;
  for (const path of typeof sort === 'string' ? [sort] : Object.keys(sort ?? {})) {
    const match = /^"?([\w$]+)"?\."?([\w$]+)"?$/.exec(path.trim());
    const alias = match ? qb.expressionMap.aliases.find((a) => a.name === match[1]) : undefined;
    const info = alias?.hasMetadata ? infoOf(state, alias.metadata) : undefined;
    if (info?.fields.some((f) => f.field === match![2])) throw refuse(info.model, match![2]!);
  }
}
