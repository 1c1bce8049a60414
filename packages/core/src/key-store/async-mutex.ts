/**
 * A FIFO mutex for async code.
 *
 * @example
 * ```ts
 * const mutex = new AsyncMutex();
 * await mutex.run(async () => critical());
 * ```
 */
export class AsyncMutex {
  #tail: Promise<void> = Promise.resolve();

  async run<T>(fn: () => Promise<T>): Promise<T> {
    const previous = this.#tail;
    let release!: () => void;
    this.#tail = new Promise<void>((resolve) => (release = resolve));
    await previous;
    try {
      return await fn();
    } finally {
      release();
    }
  }
}
