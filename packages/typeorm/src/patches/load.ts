import type { EntityMetadata, ObjectLiteral, QueryRunner } from 'typeorm';
import { Broadcaster } from 'typeorm/subscriber/Broadcaster.js';
import type { BroadcasterResult } from 'typeorm/subscriber/BroadcasterResult.js';
import type { EntityInfo } from '../entity/entity-info.js';
import { decryptRows } from '../read/decrypt-rows.js';
import { infoOf, stateOf } from '../state.js';

type Self = { readonly queryRunner: QueryRunner };
type LoadEvent = (this: Self, result: BroadcasterResult, metadata: EntityMetadata, entities: ObjectLiteral[]) => void;

/** The entity lists of one load broadcast (main entities and the relations TypeORM walks), with their infos. */
interface Load {
  readonly lists: ObjectLiteral[][];
  readonly infos: EntityInfo[];
}

/** The load broadcast under way: TypeORM walks the relations synchronously, calling itself. */
let collecting: Load | undefined;

/**
 * Wraps TypeORM's "after load" broadcast: the entities of one query, relations included, are
 * decrypted together (one flat pass, one hierarchy call per result set) after TypeORM's own
 * listeners ran, and the query awaits it like an afterLoad promise. Acts only on DataSources
 * Keystrata is installed on.
 *
 * @example
 * ```ts
 * patchLoad(); // once per process
 * ```
 */
export function patchLoad(): void {
  const proto = Broadcaster.prototype as unknown as { broadcastLoadEvent: LoadEvent };
  const original = proto.broadcastLoadEvent;
  proto.broadcastLoadEvent = function (this: Self, result, metadata, entities) {
    const state = stateOf(this.queryRunner.dataSource);
    const info = infoOf(state, metadata);
    if (state === undefined || collecting !== undefined) {
      if (info !== undefined && collecting !== undefined) {
        collecting.lists.push(entities);
        collecting.infos.push(info);
      }
      return original.call(this, result, metadata, entities);
    }
    const load: Load = (collecting = { lists: info === undefined ? [] : [entities], infos: info === undefined ? [] : [info] });
    try {
      original.call(this, result, metadata, entities);
    } finally {
      collecting = undefined;
    }
    if (load.lists.length === 0) return;
    result.promises.push(decryptRows(state, load.infos, load.lists));
    result.count++;
  };
}
