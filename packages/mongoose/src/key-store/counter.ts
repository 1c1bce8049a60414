import { KeystrataError } from '@keystrata/core';

/**
 * Counts key-store queries (a batched query counts once) and turns driver failures into
 * KEYSTORE_UNAVAILABLE without their messages, which can quote filter values.
 *
 * @example
 * ```ts
 * const counter = new QueryCounter();
 * const docs = await counter.run('read', () => collection.find({}).toArray());
 * ```
 */
export class QueryCounter {
  count = 0;

  async run<T>(what: string, fn: () => Promise<T>): Promise<T> {
    this.count++;
    try {
      return await fn();
    } catch (error) {
      if (KeystrataError.isInstance(error)) throw error;
      throw new KeystrataError('KEYSTORE_UNAVAILABLE', `A key-store ${what} failed.`, { cause: error });
    }
  }
}
