import type { KeyCacheOptions } from '../cache/key-cache.js';
import type { AeadChoice } from '../crypto/native-aead.js';
import type { FieldContext } from '../envelope/field-context.js';
import type { FieldValue } from '../envelope/value-codec.js';
import type { KeystrataError } from '../errors/keystrata-error.js';
import type { KeyStore } from '../key-store/key-store.js';
import type { RootKey } from '../root-key/root-key.js';
import type { LegacyKeys } from './key-resolver.js';

/** An event for the monitoring hook: one per batch operation, no values or key bytes.
 * @example `await KeyHierarchy.create({ rootKey, keyStore, monitor: (event) => metrics.record(event.operation, event.count, event.ok ? 'ok' : event.code, event.durationMs) })`
 */
export interface OperationEvent {
  readonly operation: 'encrypt' | 'decrypt' | 'blind-index';
  readonly count: number;
  readonly ok: boolean;
  readonly code?: string;
  readonly durationMs: number;
}

/** Options for {@link KeyHierarchy.create}, validated once.
 * @example `await KeyHierarchy.create({ rootKey, keyStore, keyring: 'billing', cache: { maxAgeMs: 30_000 }, legacyKeys: 'refuse' })`
 */
export interface KeyHierarchyOptions {
  readonly rootKey: RootKey;
  readonly keyStore: KeyStore;
  /** Keyring used when a context names none (default `default`). */
  readonly keyring?: string;
  readonly cache?: KeyCacheOptions;
  /** Recorded as the actor of audit records (default `keystrata`). */
  readonly actor?: string;
  /** Prefix of CMK labels in the HSM (default `keystrata-cmk`). */
  readonly cmkLabelPrefix?: string;
  /** Called after every encrypt/decrypt/blind-index batch. */
  readonly monitor?: (event: OperationEvent) => void;
  /**
   * Wrapped keys from before identity binding (plain RFC 5649 DEKs, KEKs without a binding):
   * `accept` (default, so existing stores keep working) or `refuse` (KEYSTORE_TAMPERED) once
   * `keystrata rewrap` has migrated them, which also closes a downgrade to the legacy formats.
   */
  readonly legacyKeys?: LegacyKeys;
  /**
   * AES-256-GCM for field values: `auto` (default: the `@keystrata/native` batch addon when it is
   * built, else node:crypto), `native` (refuse to start without the addon) or `node:crypto`. Same
   * ciphertext either way. Unset, `KEYSTRATA_AEAD` (`auto`, `native`, `node`) decides.
   */
  readonly aead?: AeadChoice;
}

/** A value to encrypt.
 * @example `const [ssn] = await hierarchy.encryptValues([{ value: '123-45-6789', context: { model: 'Patient', field: 'ssn', recordId: 'p1', segment: 'tenantId:acme' } }])`
 */
export interface EncryptItem {
  readonly value: FieldValue;
  readonly context: FieldContext;
}

/** A ciphertext to decrypt.
 * @example `const [ssn] = await hierarchy.decryptValues([{ ciphertext: row.ssn, context: { model: 'Patient', field: 'ssn', recordId: row.id } }])`
 */
export interface DecryptItem {
  readonly ciphertext: unknown;
  readonly context: FieldContext;
}

/** Per-item result of {@link KeyHierarchy.decryptValuesSettled}.
 * @example `for (const result of await hierarchy.decryptValuesSettled(items)) show(result.ok ? result.value : result.error.code)`
 */
export type DecryptResult = { readonly ok: true; readonly value: FieldValue } | { readonly ok: false; readonly error: KeystrataError };
