import { KeystrataError, type KeyHierarchy } from '@keystrata/core';
import type { FieldValue, RecordEncryptor } from '@keystrata/core/adapter';
import type { DataSource, EntitySubscriberInterface, EntityTarget, ObjectLiteral } from 'typeorm';
import type { EntityInfo } from './entity/entity-info.js';
import { decryptRawRows } from './read/raw.js';
import { typeormReencryptionHook } from './rotation/hook.js';
import { infoOf, setState, type AdapterState } from './state.js';
import { prepareSegments } from './write/prepare.js';

/**
 * Keystrata installed on one DataSource (see `installKeystrata`): the hierarchy it uses, a record
 * encryptor configured like it, plus helpers for what TypeORM cannot route through the subscriber.
 *
 * @example
 * ```ts
 * const keystrata = await installKeystrata(dataSource, { rootKey, segment: { by: 'tenant', field: 'tenantId' } });
 * const rows = await keystrata.decryptRaw(Patient, await dataSource.query('SELECT * FROM patient'));
 * ```
 */
export class KeystrataTypeorm {
  readonly dataSource: DataSource;
  readonly hierarchy: KeyHierarchy;
  readonly records: RecordEncryptor;
  readonly #state: AdapterState;
  readonly #subscriber: EntitySubscriberInterface;
  readonly #ownsHierarchy: boolean;

  constructor(state: AdapterState, parts: { hierarchy: KeyHierarchy; subscriber: EntitySubscriberInterface; ownsHierarchy: boolean }) {
    this.dataSource = state.dataSource;
    this.records = state.records;
    this.hierarchy = parts.hierarchy;
    this.#state = state;
    this.#subscriber = parts.subscriber;
    this.#ownsHierarchy = parts.ownsHierarchy;
  }

  #info(entity: EntityTarget<ObjectLiteral>): EntityInfo {
    const info = infoOf(this.#state, this.dataSource.getMetadata(entity));
    if (info === undefined) throw new KeystrataError('CONFIG_INVALID', `${this.dataSource.getMetadata(entity).name} has no @Encrypted() columns.`);
    return info;
  }

  /** The logical model name bound into an entity's ciphertexts. */
  modelOf(entity: EntityTarget<ObjectLiteral>): string {
    return this.#info(entity).model;
  }

  /** The blind index of `value` for `field`, for QueryBuilder or raw SQL lookups on its index column. */
  indexFor(entity: EntityTarget<ObjectLiteral>, field: string, value: FieldValue): Promise<string> {
    const info = this.#info(entity);
    if (!info.fields.some((f) => f.field === field && f.index !== undefined)) {
      return Promise.reject(new KeystrataError('QUERY_UNSUPPORTED', `${info.model}.${field} has no blind index; declare @Encrypted({ index }).`));
    }
    return this.records.indexFor(info.model, field, value);
  }

  /** Decrypts raw rows in place (`query()` rows, or `getRawMany()` rows with `{ alias }`). */
  decryptRaw<T extends Record<string, unknown>>(entity: EntityTarget<ObjectLiteral>, rows: T[], options: { alias?: string } = {}): Promise<T[]> {
    return decryptRawRows(this.#state, this.#info(entity), rows, options.alias);
  }

  /**
   * Creates the DEKs of segments that have none yet. On SQLite, call it before a transaction that
   * writes to new segments after it has written: the key store cannot commit while it holds the lock.
   * With a keyring function, name each segment's keyring: `{ segment, keyring }`.
   */
  prepareSegments(segments: ReadonlyArray<string | { readonly segment: string; readonly keyring?: string }>): Promise<void> {
    return prepareSegments(this.#state, segments);
  }

  /** The re-encryption hook for `hierarchy.rotateDek` (see `typeormReencryptionHook`). */
  reencryptionHook(entities?: readonly EntityTarget<ObjectLiteral>[]) {
    return typeormReencryptionHook(this.dataSource, entities);
  }

  /** Removes the subscriber and wrappers from the DataSource; encrypted columns are then read raw. */
  uninstall(): void {
    const index = this.dataSource.subscribers.indexOf(this.#subscriber);
    if (index >= 0) this.dataSource.subscribers.splice(index, 1);
    setState(this.dataSource, undefined);
  }

  /** Uninstalls, and closes the hierarchy (key store and root key) when installKeystrata created it. */
  async close(): Promise<void> {
    this.uninstall();
    if (this.#ownsHierarchy) await this.hierarchy.close();
  }
}
