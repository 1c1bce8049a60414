import { AsyncLocalStorage } from 'node:async_hooks';

const context = new AsyncLocalStorage<boolean>();

/**
 * Runs a `save()`/`remove()` remembering whether its listeners run (Keystrata's subscriber
 * encrypts in them), so a later refusal can say what happened.
 *
 * @example
 * ```ts
 * return inPersist(options?.listeners !== false, () => original.call(this));
 * ```
 */
export function inPersist<T>(listeners: boolean, run: () => Promise<T>): Promise<T> {
  return context.run(listeners, run);
}

/**
 * Whether the write under way is part of a `save()` whose listeners ran (so Keystrata's
 * subscriber had encrypted the entity before TypeORM built the query).
 *
 * @example
 * ```ts
 * if (listenersRan()) … // plaintext now means a listener changed the entity afterwards
 * ```
 */
export function listenersRan(): boolean {
  return context.getStore() === true;
}
