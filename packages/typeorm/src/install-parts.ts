import { KeyHierarchy, KeystrataError } from '@keystrata/core';
import type { DataSource, EntityMetadata } from 'typeorm';
import { entityInfoOf, type EntityInfo } from './entity/entity-info.js';
import type { InstallOptions } from './install-options.js';
import { keyStoreFor } from './key-store.js';

/**
 * The validated entities with encrypted columns of a DataSource; model names must be unique.
 *
 * @example
 * ```ts
 * const infos = entityInfos(dataSource); // Map { metadata => { model: 'Patient', … } }
 * ```
 */
export function entityInfos(dataSource: DataSource): Map<EntityMetadata, EntityInfo> {
  const infos = new Map<EntityMetadata, EntityInfo>();
  const models = new Set<string>();
  for (const metadata of dataSource.entityMetadatas) {
    const info = entityInfoOf(dataSource, metadata);
    if (info === undefined) continue;
    if (models.has(info.model)) throw new KeystrataError('CONFIG_INVALID', `Two entities use the model name "${info.model}"; set distinct names with @EncryptedModel().`);
    models.add(info.model);
    infos.set(metadata, info);
  }
  return infos;
}

/**
 * The hierarchy to use: the one passed in, or one created over `rootKey` and the key store.
 *
 * @example
 * ```ts
 * const { hierarchy, owned } = await hierarchyFor(dataSource, { rootKey, segment });
 * ```
 */
export async function hierarchyFor(dataSource: DataSource, options: InstallOptions): Promise<{ hierarchy: KeyHierarchy; owned: boolean }> {
  if (options.hierarchy !== undefined) return { hierarchy: options.hierarchy, owned: false };
  if (options.rootKey === undefined) throw new KeystrataError('CONFIG_INVALID', 'installKeystrata needs hierarchy or rootKey.');
  const keyStore = options.keyStore ?? (await keyStoreFor(dataSource));
  try {
    return { hierarchy: await KeyHierarchy.create({ ...options.hierarchyOptions, rootKey: options.rootKey, keyStore }), owned: true };
  } catch (error) {
    if (options.keyStore === undefined) await keyStore.close();
    throw error;
  }
}
