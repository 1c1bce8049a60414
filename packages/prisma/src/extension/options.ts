import { KeystrataError, type KeyHierarchy } from '@keystrata/core';
import { refuseUnknownKeys, type RecordEncryptorOptions, type SegmentPolicy } from '@keystrata/core/adapter';
import { assertFieldMap } from '../field-map/assert-field-map.js';
import type { FieldMap } from '../field-map/types.js';

/**
 * Options of {@link withKeystrata}, validated once when the client is extended.
 *
 * @example
 * ```ts
 * const options: KeystrataPrismaOptions = { hierarchy, fieldMap, segment: { by: 'tenant', field: 'tenantId' } };
 * ```
 */
export interface KeystrataPrismaOptions {
  /** The key hierarchy (HSM root key + key store), e.g. from `KeyHierarchy.create`; the same option name in every adapter. Required (or its deprecated alias `keystrata`). */
  readonly hierarchy?: KeyHierarchy;
  /** @deprecated Renamed `hierarchy` (the name every adapter uses); still accepted, never together with `hierarchy`. */
  readonly keystrata?: KeyHierarchy;
  /** The map the `keystrata-prisma` generator emitted from `/// @encrypted` annotations. */
  readonly fieldMap: FieldMap;
  /** Which DEK protects a record: per tenant field, per record, fixed, or your function. */
  readonly segment: SegmentPolicy;
  /** Bind record ids into each value's AAD when known at write time (default true). */
  readonly bindRecordId?: boolean;
  /** On a value that cannot be decrypted: throw (default) or return an `UnreadableValue`. */
  readonly onUnreadable?: 'throw' | 'placeholder';
  /**
   * Keyring (CMK + KEK) of the data: a name (default: the hierarchy's), or a function of the record
   * for a CMK per tenant, e.g. `({ record }) => \`tenant-\${record.tenantId}\``. Provision each keyring first.
   */
  readonly keyring?: RecordEncryptorOptions['keyring'];
  /**
   * An update that writes an encrypted field but whose `where`/`data` lack the record id or
   * segment field reads them first with one extra query (default true); false fails closed.
   */
  readonly prefetch?: boolean;
}

const KNOWN = ['hierarchy', 'fieldMap', 'segment', 'bindRecordId', 'onUnreadable', 'keyring', 'prefetch', 'keystrata'];

/**
 * Validates {@link KeystrataPrismaOptions} (the segment policy and hierarchy are checked by the
 * core's RecordEncryptor). Unknown keys are an error so a typo never weakens protection.
 *
 * @example
 * ```ts
 * assertOptions({ hierarchy, fieldMap, segment: { by: 'record' } });
 * ```
 */
export function assertOptions(options: unknown): asserts options is KeystrataPrismaOptions {
  if (typeof options !== 'object' || options === null) throw new KeystrataError('CONFIG_INVALID', 'withKeystrata needs an options object.');
  refuseUnknownKeys(options, KNOWN, 'withKeystrata option');
  const o = options as KeystrataPrismaOptions;
  hierarchyOf(o);
  assertFieldMap(o.fieldMap);
  if (o.prefetch !== undefined && typeof o.prefetch !== 'boolean') throw new KeystrataError('CONFIG_INVALID', 'prefetch must be a boolean.');
  if (o.bindRecordId !== undefined && typeof o.bindRecordId !== 'boolean') throw new KeystrataError('CONFIG_INVALID', 'bindRecordId must be a boolean.');
  if (o.onUnreadable !== undefined && o.onUnreadable !== 'throw' && o.onUnreadable !== 'placeholder') throw new KeystrataError('CONFIG_INVALID', "onUnreadable must be 'throw' or 'placeholder'.");
  const segment = o.segment as { by?: string; field?: string } | undefined;
  if (segment?.by !== 'tenant' || typeof segment.field !== 'string') return;
  for (const [name, model] of Object.entries(o.fieldMap.models)) {
    if (model.encrypted.length > 0 && model.scalars[segment.field] === undefined) {
      throw new KeystrataError('CONFIG_INVALID', `segment field "${segment.field}" does not exist on model ${name}, which has encrypted fields.`);
    }
  }
}

/**
 * The hierarchy of validated options: `hierarchy`, or its deprecated alias `keystrata`; both at
 * once, or neither, is CONFIG_INVALID.
 *
 * @example
 * ```ts
 * const hierarchy = hierarchyOf({ keystrata: hierarchy, fieldMap, segment }); // the deprecated name still works
 * ```
 */
export function hierarchyOf(options: KeystrataPrismaOptions): KeyHierarchy {
  const hierarchy = options.hierarchy ?? options.keystrata;
  if (options.hierarchy !== undefined && options.keystrata !== undefined) {
    throw new KeystrataError('CONFIG_INVALID', 'withKeystrata got both hierarchy and keystrata (its deprecated alias).', { hint: 'Pass the key hierarchy once, as hierarchy.' });
  }
  if (typeof (hierarchy as { encryptValues?: unknown } | undefined)?.encryptValues !== 'function') {
    throw new KeystrataError('CONFIG_INVALID', 'withKeystrata needs hierarchy: a KeyHierarchy (from KeyHierarchy.create).');
  }
  return hierarchy!;
}
