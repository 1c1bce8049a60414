import { KeystrataError } from '@keystrata/core';
import { assertSegmentPolicy, RecordEncryptor, refuseUnknownKeys } from '@keystrata/core/adapter';
import type { DataSource } from 'typeorm';
import { INSTALL_OPTION_KEYS, type InstallOptions } from './install-options.js';
import { entityInfos, hierarchyFor } from './install-parts.js';
import { KeystrataTypeorm } from './keystrata.js';
import { ensurePatched } from './patches/index.js';
import { wrapQueryRunners } from './patches/query-runner.js';
import { setState, stateOf, type AdapterState } from './state.js';
import { KeystrataSubscriber } from './subscriber.js';

/**
 * Installs Keystrata on an initialized DataSource: validates the `@Encrypted()` entities, opens
 * the key hierarchy (by default with its key store in the same database), registers the
 * subscriber and the QueryBuilder wrappers. One call, before the first query.
 *
 * @example
 * ```ts
 * await dataSource.initialize();
 * const keystrata = await installKeystrata(dataSource, { rootKey: await Pkcs11RootKey.open({ … }), segment: { by: 'tenant', field: 'tenantId' } });
 * ```
 */
export async function installKeystrata(dataSource: DataSource, options: InstallOptions): Promise<KeystrataTypeorm> {
  if (!dataSource?.isInitialized) throw new KeystrataError('CONFIG_INVALID', 'Initialize the DataSource before installing Keystrata on it.');
  if (stateOf(dataSource) !== undefined) throw new KeystrataError('CONFIG_INVALID', 'Keystrata is already installed on this DataSource.');
  if (typeof options !== 'object' || options === null) throw new KeystrataError('CONFIG_INVALID', 'installKeystrata needs an options object: { hierarchy or rootKey, segment }.');
  refuseUnknownKeys(options, INSTALL_OPTION_KEYS, 'installKeystrata option');
  assertSegmentPolicy(options.segment);
  const infos = entityInfos(dataSource);
  const { hierarchy, owned } = await hierarchyFor(dataSource, options);
  const perRecord = typeof options.keyring === 'function';
  const keyring = perRecord ? undefined : ((options.keyring as string | undefined) ?? hierarchy.defaultKeyring);
  const models = Object.fromEntries([...infos.values()].map((i) => [i.model, { fields: i.fields, idField: i.idField }]));
  try {
    if (keyring !== undefined && (options.provision ?? true)) await hierarchy.provision(keyring);
    // Creates the keyring's blind-index key now rather than inside the first write transaction.
    if ([...infos.values()].some((i) => i.fields.some((f) => f.index !== undefined)))
      await hierarchy.blindIndex('', { model: 'keystrata', field: 'prepare', keyring: keyring ?? hierarchy.defaultKeyring });
    // Database-generated ids are unknown at insert: those values stay unbound (README), by this adapter's choice.
    const records = new RecordEncryptor({
      hierarchy,
      models,
      segment: options.segment,
      bindRecordId: options.bindRecordId ?? true,
      withoutRecordId: 'seal-unbound',
      onUnreadable: options.onUnreadable ?? 'throw',
      keyring: options.keyring ?? keyring,
    });
    const policy = options.keyring;
    const keyringOf = typeof policy === 'function' ? (model: string, record: Readonly<Record<string, unknown>>) => policy({ model, record }) : () => keyring!;
    const state: AdapterState = { dataSource, records, keyring, keyringOf, segment: options.segment, bindRecordId: options.bindRecordId ?? true, generateUuids: options.generateUuids ?? true, infos };
    ensurePatched();
    await wrapQueryRunners(dataSource);
    setState(dataSource, state);
    const subscriber = new KeystrataSubscriber(state);
    dataSource.subscribers.push(subscriber);
    return new KeystrataTypeorm(state, { hierarchy, subscriber, ownsHierarchy: owned });
  } catch (error) {
    if (owned) await hierarchy.close();
    throw error;
  }
}
