import { KeystrataError, type ReencryptionHook } from '@keystrata/core';
import type { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';
import type { EntityInfo } from '../entity/entity-info.js';
import { infoOf, stateOf, type AdapterState } from '../state.js';
import { scanEntity } from './scan.js';
import { segmentFilter } from './segment-filter.js';
import { writeUpdates } from './write.js';

function infosFor(state: AdapterState, dataSource: DataSource, entities: readonly EntityTarget<ObjectLiteral>[] | undefined): EntityInfo[] {
  if (entities === undefined) return [...state.infos.values()];
  return entities.map((entity) => {
    const info = infoOf(state, dataSource.getMetadata(entity));
    if (info === undefined) throw new KeystrataError('CONFIG_INVALID', `${dataSource.getMetadata(entity).name} has no @Encrypted() columns.`);
    return info;
  });
}

/**
 * The core {@link ReencryptionHook} for TypeORM: lets `hierarchy.rotateDek({ segment, hook })`
 * page through a segment's rows of the given entities (default: every entity with encrypted
 * columns) in primary-key order and write the new ciphertexts back with compare-and-swap.
 *
 * @example
 * ```ts
 * await keystrata.hierarchy.rotateDek({ segment: 'tenantId:acme', hook: typeormReencryptionHook(dataSource, [Patient]), batchSize: 200 });
 * ```
 */
export function typeormReencryptionHook(dataSource: DataSource, entities?: readonly EntityTarget<ObjectLiteral>[]): ReencryptionHook {
  const state = stateOf(dataSource);
  if (state === undefined) throw new KeystrataError('CONFIG_INVALID', 'Install Keystrata on the DataSource (installKeystrata) before creating its re-encryption hook.');
  const infos = infosFor(state, dataSource, entities);
  const hook: ReencryptionHook = {
    async scan({ keyring, segment, cursor, limit }) {
      let [index, after] = cursor === null ? [0, null] : (JSON.parse(cursor) as [number, string | null]);
      for (; (state.keyring === undefined || keyring === state.keyring) && index < infos.length; index++, after = null) {
        const page = await scanEntity(state, infos[index]!, segment, after, limit);
        if (page.next !== null) return { records: page.records, cursor: JSON.stringify([index, page.next]) };
        if (page.records.length > 0) return { records: page.records, cursor: index + 1 < infos.length ? JSON.stringify([index + 1, null]) : null };
      }
      return { records: [], cursor: null };
    },
    write: (updates) => writeUpdates(state, infos, updates),
  };
  if (typeof state.segment === 'function') return hook;
  return {
    ...hook,
    async count({ keyring, segment }) {
      let total = 0;
      for (const info of state.keyring === undefined || keyring === state.keyring ? infos : []) {
        const filter = segmentFilter(state, info, segment);
        if (filter === 'none') continue;
        const qb = dataSource.createQueryBuilder(info.metadata.target, 'e');
        if (filter !== 'all') qb.where(`e.${filter.property} = :value`, { value: filter.value });
        total += await qb.getCount();
      }
      return total;
    },
  };
}
