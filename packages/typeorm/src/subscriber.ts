import type { EntitySubscriberInterface, InsertEvent, ObjectLiteral, UpdateEvent } from 'typeorm';
import { MicroBatch } from './batch.js';
import type { EntityInfo } from './entity/entity-info.js';
import { groupBy } from './group.js';
import { infoOf, type AdapterState } from './state.js';
import { sealTargets, type SealTarget } from './write/seal.js';
import { isSealed, restore } from './write/stash.js';
import { insertTarget, updateTarget } from './write/targets.js';

type Row = Record<string, unknown>;

/** Turns a synchronous throw into a rejected promise, so TypeORM awaits it with the others. */
function attempt(run: () => Promise<void> | undefined): Promise<void> | undefined {
  try {
    return run();
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * The TypeORM subscriber of the adapter: encrypts entities in beforeInsert/beforeUpdate (the
 * `save()` path, cascades included) and puts the plaintext back in afterInsert/afterUpdate. Hooks
 * of one burst are batched. Loaded entities are decrypted per result set by `patchLoad`, not here.
 *
 * @example
 * ```ts
 * dataSource.subscribers.push(new KeystrataSubscriber(state));
 * ```
 */
export class KeystrataSubscriber implements EntitySubscriberInterface<ObjectLiteral> {
  readonly #state: AdapterState;
  readonly #seal: MicroBatch<{ info: EntityInfo; target: SealTarget }>;

  constructor(state: AdapterState) {
    this.#state = state;
    this.#seal = new MicroBatch(async (items) => {
      for (const [info, group] of groupBy(items, (i) => i.info))
        await sealTargets(
          state,
          info,
          group.map((i) => i.target),
        );
    });
  }

  #add(info: EntityInfo, target: SealTarget): Promise<void> | undefined {
    return Object.keys(target.values).length === 0 ? undefined : this.#seal.add({ info, target });
  }

  beforeInsert(event: InsertEvent<ObjectLiteral>): Promise<void> | undefined {
    const info = infoOf(this.#state, event.metadata);
    if (info === undefined || isSealed(event.entity)) return;
    return attempt(() => this.#add(info, insertTarget(this.#state, info, event.entity, true)));
  }

  beforeUpdate(event: UpdateEvent<ObjectLiteral>): Promise<void> | undefined {
    const info = infoOf(this.#state, event.metadata);
    if (info === undefined || !event.entity || isSealed(event.entity)) return;
    const changed = event.databaseEntity ? event.updatedColumns.map((c) => c.propertyName) : 'all';
    return attempt(() => this.#add(info, updateTarget(this.#state, info, event.entity as Row, event.databaseEntity as Row | undefined, changed)));
  }

  afterInsert(event: InsertEvent<ObjectLiteral>): void {
    restore(event.entity);
  }

  afterUpdate(event: UpdateEvent<ObjectLiteral>): void {
    restore(event.entity);
  }
}
