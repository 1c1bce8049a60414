import { KeystrataError } from '@keystrata/core';

const SHARED_FAILURE = /^(HSM_|KEYSTORE_)/;

async function settle<T>(items: readonly T[], run: (items: readonly T[]) => Promise<void>): Promise<Map<T, unknown>> {
  try {
    await run(items);
    return new Map();
  } catch (error) {
    // An HSM or key-store outage fails everyone; anything else is isolated to the items it concerns.
    if (items.length === 1 || !KeystrataError.isInstance(error) || SHARED_FAILURE.test(error.code)) return new Map(items.map((item) => [item, error]));
    const failures = new Map<T, unknown>();
    for (const item of items) await run([item]).catch((e: unknown) => failures.set(item, e));
    return failures;
  }
}

/**
 * Collects the items handed to it in one synchronous burst (TypeORM calls a subscriber hook once
 * per entity, then awaits them all) and processes them in one batch on the next microtask. Each
 * caller's promise fails only with its own item's error.
 *
 * @example
 * ```ts
 * const batch = new MicroBatch<Entity>((items) => encryptAll(items));
 * beforeInsert(event) { return batch.add(event.entity); }
 * ```
 */
export class MicroBatch<T> {
  readonly #run: (items: readonly T[]) => Promise<void>;
  #items: T[] = [];
  #pending: Promise<Map<T, unknown>> | undefined;

  constructor(run: (items: readonly T[]) => Promise<void>) {
    this.#run = run;
  }

  add(item: T): Promise<void> {
    this.#items.push(item);
    this.#pending ??= Promise.resolve().then(() => {
      const items = this.#items;
      this.#items = [];
      this.#pending = undefined;
      return settle(items, this.#run);
    });
    return this.#pending.then((failures) => {
      if (failures.has(item)) throw failures.get(item);
    });
  }
}
