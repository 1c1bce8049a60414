/**
 * `save()`/`remove()` operations whose listeners run (Keystrata's subscriber encrypts in them), by
 * the query runner they write through: TypeORM's persistence builds every INSERT/UPDATE of the
 * operation on that runner. A count, since operations can share a runner (one transaction).
 * Deliberately no AsyncLocalStorage: once used, it makes Node track every promise of the process
 * (promise hooks, paid by every query of the application) for good (issue 16 §W3).
 */
const persisting = new WeakMap<object, number>();

/**
 * Runs a `save()`/`remove()` remembering, on its query runner, whether its listeners run, so a
 * later refusal can say what happened.
 *
 * @example
 * ```ts
 * return inPersist(this.queryRunner, options?.listeners !== false, () => original.call(this));
 * ```
 */
export async function inPersist<T>(queryRunner: object | undefined, listeners: boolean, run: () => Promise<T>): Promise<T> {
  if (!listeners || queryRunner === undefined) return run();
  persisting.set(queryRunner, (persisting.get(queryRunner) ?? 0) + 1);
  try {
    return await run();
  } finally {
    const left = persisting.get(queryRunner)! - 1;
    if (left === 0) persisting.delete(queryRunner);
    else persisting.set(queryRunner, left);
  }
}

/**
 * Whether a write on this query runner is part of a `save()` whose listeners ran (so Keystrata's
 * subscriber had encrypted the entity before TypeORM built the query). Only chooses the wording
 * of a refusal: the write is refused either way.
 *
 * @example
 * ```ts
 * if (listenersRan(queryBuilder.queryRunner)) … // plaintext now means a listener changed the entity afterwards
 * ```
 */
export function listenersRan(queryRunner: object | undefined): boolean {
  return queryRunner !== undefined && persisting.has(queryRunner);
}
