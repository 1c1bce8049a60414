import type { RecordEncryptor, SegmentPolicy } from '@keystrata/core/adapter';
import type { DataSource, EntityMetadata, ObjectLiteral, QueryBuilder } from 'typeorm';
import type { EntityInfo } from './entity/entity-info.js';

/**
 * The adapter's settings for one DataSource.
 *
 * @example
 * ```ts
 * const state: AdapterState = { dataSource, records, keyring: 'default', keyringOf: () => 'default', segment, bindRecordId: true, generateUuids: true, infos };
 * ```
 */
export interface AdapterState {
  readonly dataSource: DataSource;
  readonly records: RecordEncryptor;
  /** The keyring the data is encrypted under; undefined when it is chosen per record. */
  readonly keyring: string | undefined;
  /** The keyring of one record (the named keyring, or the install option's function applied). */
  readonly keyringOf: (model: string, record: Readonly<Record<string, unknown>>) => string;
  readonly segment: SegmentPolicy;
  readonly bindRecordId: boolean;
  readonly generateUuids: boolean;
  /** Entities with encrypted columns, by their metadata. */
  readonly infos: ReadonlyMap<EntityMetadata, EntityInfo>;
}

const STATES = new WeakMap<object, AdapterState>();

/**
 * Registers (or with `undefined`, removes) the adapter state of a DataSource.
 *
 * @example
 * ```ts
 * setState(dataSource, state);
 * ```
 */
export function setState(dataSource: DataSource, state: AdapterState | undefined): void {
  if (state === undefined) STATES.delete(dataSource);
  else STATES.set(dataSource, state);
}

/**
 * The adapter state of a DataSource, when Keystrata is installed on it.
 *
 * @example
 * ```ts
 * const state = stateOf(queryBuilder.dataSource);
 * ```
 */
export function stateOf(dataSource: DataSource | undefined): AdapterState | undefined {
  return dataSource === undefined ? undefined : STATES.get(dataSource);
}

/**
 * The entity info for a metadata object, when the entity has encrypted columns.
 *
 * @example
 * ```ts
 * const info = infoOf(state, event.metadata);
 * ```
 */
export function infoOf(state: AdapterState | undefined, metadata: EntityMetadata | undefined): EntityInfo | undefined {
  return metadata === undefined ? undefined : state?.infos.get(metadata);
}

/**
 * The state and entity info of a query builder's main alias, when it targets an encrypted entity.
 *
 * @example
 * ```ts
 * const target = targetOf(this); if (target) …
 * ```
 */
export function targetOf(qb: QueryBuilder<ObjectLiteral>): { state: AdapterState; info: EntityInfo } | undefined {
  const state = stateOf(qb.dataSource);
  const alias = qb.expressionMap.mainAlias;
  const info = alias?.hasMetadata ? infoOf(state, alias.metadata) : undefined;
  return state && info ? { state, info } : undefined;
}
