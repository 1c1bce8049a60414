import { executionAsyncId } from 'node:async_hooks';

/**
 * Whether Node tracks this process's promises (async hooks, e.g. an AsyncLocalStorage in use):
 * after an `await`, the execution id is then the promise's, else 0. While tracking is on, every
 * promise of the application (its ORM's queries included) pays about 0.1 µs (issue 16 §W3).
 *
 * @example
 * ```ts
 * expect(await promisesTracked()).toBe(false);
 * ```
 */
export async function promisesTracked(): Promise<boolean> {
  await null;
  return executionAsyncId() !== 0;
}
