/**
 * A FIFO mutex for async code (serialises this process's audit appends).
 *
 * @example
 * ```ts
 * const mutex = new Mutex();
 * await mutex.run(async () => critical());
 * ```
 */
export class Mutex {
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
