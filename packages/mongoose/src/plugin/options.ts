import type { KeyHierarchy } from '@keystrata/core';
import { assertSegmentPolicy, refuseUnknownKeys, type SegmentPolicy, type RecordEncryptorOptions } from '@keystrata/core/adapter';
import { configError } from '../errors.js';

/**
 * Options of the {@link keystrata} plugin, validated when the plugin is applied.
 *
 * @example
 * ```ts
 * const options: KeystrataPluginOptions = { hierarchy, segment: { by: 'tenant', field: 'tenantId' }, onUnreadable: 'placeholder' };
 * ```
 */
export interface KeystrataPluginOptions {
  /** The key hierarchy (or a promise of it, so schemas can be declared before it is opened). */
  readonly hierarchy: KeyHierarchy | Promise<KeyHierarchy>;
  /** Which DEK protects a document: `{ by: 'tenant', field }`, `{ by: 'record' }`, `{ by: 'fixed', segment }` or a function. */
  readonly segment: SegmentPolicy;
  /** Model name bound into each value's AAD (default: the Mongoose model's name; a discriminator uses its base model's). */
  readonly model?: string;
  /** Bind the document's `_id` into each value's AAD (default true). */
  readonly bindRecordId?: boolean;
  /** On an unreadable stored value: throw (default) or put an `UnreadableValue` in its place. */
  readonly onUnreadable?: 'throw' | 'placeholder';
  /**
   * Keyring (CMK + KEK) of the data: a name (default: the hierarchy's), or a function of the document
   * for a CMK per tenant, e.g. `({ record }) => \`tenant-\${record.tenantId}\``. Provision each keyring first.
   */
  readonly keyring?: RecordEncryptorOptions['keyring'];
}

/** Every key {@link KeystrataPluginOptions} accepts; any other is refused, naming it. */
const PLUGIN_OPTION_KEYS: readonly string[] = ['hierarchy', 'segment', 'model', 'bindRecordId', 'onUnreadable', 'keyring'];

/**
 * Validates plugin options once.
 *
 * @example
 * ```ts
 * assertPluginOptions({ hierarchy, segment: { by: 'record' } });
 * ```
 */
export function assertPluginOptions(options: unknown): asserts options is KeystrataPluginOptions {
  const o = options as Partial<KeystrataPluginOptions> | undefined;
  if (typeof o !== 'object' || o === null) throw configError('options { hierarchy, segment } are required.');
  refuseUnknownKeys(o, PLUGIN_OPTION_KEYS, 'keystrata plugin option');
  const h = o.hierarchy as { encryptValues?: unknown; then?: unknown } | undefined;
  if (typeof h?.encryptValues !== 'function' && typeof h?.then !== 'function') throw configError('hierarchy must be a KeyHierarchy or a promise of one.');
  assertSegmentPolicy(o.segment);
  if (o.model !== undefined && (typeof o.model !== 'string' || o.model === '')) throw configError('model must be a non-empty string.');
  if (o.bindRecordId !== undefined && typeof o.bindRecordId !== 'boolean') throw configError('bindRecordId must be a boolean.');
  if (o.onUnreadable !== undefined && o.onUnreadable !== 'throw' && o.onUnreadable !== 'placeholder') throw configError("onUnreadable must be 'throw' or 'placeholder'.");
  if (o.keyring !== undefined && typeof o.keyring !== 'function' && (typeof o.keyring !== 'string' || o.keyring === ''))
    throw configError('keyring must be a non-empty string or a function of the document.');
}
