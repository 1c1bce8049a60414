import type { KeyHierarchy, KeyHierarchyOptions, KeyStore, RootKey } from '@keystrata/core';
import type { RecordEncryptorOptions, SegmentPolicy } from '@keystrata/core/adapter';

/**
 * Options of {@link installKeystrata}, validated once.
 *
 * @example
 * ```ts
 * const options: InstallOptions = { rootKey, segment: { by: 'tenant', field: 'tenantId' }, onUnreadable: 'placeholder' };
 * ```
 */
export interface InstallOptions {
  /** How records are grouped under DEKs (core semantics, shared with the other adapters). */
  readonly segment: SegmentPolicy;
  /** A ready hierarchy; otherwise pass `rootKey` and one is created over the DataSource's database. */
  readonly hierarchy?: KeyHierarchy;
  readonly rootKey?: RootKey;
  /** Key store for a created hierarchy (default: a SqlKeyStore in the DataSource's database, own connection). */
  readonly keyStore?: KeyStore;
  readonly hierarchyOptions?: Omit<KeyHierarchyOptions, 'rootKey' | 'keyStore'>;
  /** Create the keyring's CMK and KEK if missing (default true; only for a keyring given by name). */
  readonly provision?: boolean;
  /**
   * Keyring (CMK + KEK) of the data: a name (default: the hierarchy's), or a function of the record
   * for a CMK per tenant, e.g. `({ record }) => \`tenant-\${record.tenantId}\``. Provision each such
   * keyring yourself (`hierarchy.provision(name)` or `keystrata init --keyring name`).
   */
  readonly keyring?: RecordEncryptorOptions['keyring'];
  /** Bind record ids into the AAD when known at write time (default true). */
  readonly bindRecordId?: boolean;
  /** On an undecryptable value: throw (default) or load an UnreadableValue placeholder. */
  readonly onUnreadable?: 'throw' | 'placeholder';
  /** Generate missing `@PrimaryGeneratedColumn('uuid')` ids before encrypting, so they can be bound (default true). */
  readonly generateUuids?: boolean;
}

/** Every key {@link InstallOptions} accepts; any other is refused, naming it. */
export const INSTALL_OPTION_KEYS: readonly string[] = ['segment', 'hierarchy', 'rootKey', 'keyStore', 'hierarchyOptions', 'provision', 'keyring', 'bindRecordId', 'onUnreadable', 'generateUuids'];
