import { KeystrataError } from '../errors/keystrata-error.js';
import type { KeyStore } from '../key-store/key-store.js';

/** One DEK's uses reserved by this process and not yet taken. */
interface Entry {
  remaining: number;
  /** The key store's total passed the limit: no more uses for this DEK. */
  exhausted: boolean;
  /** The one reservation in flight for this DEK in this process. */
  inFlight: Promise<void> | undefined;
  /** A background reservation failed: the next one is made when the uses run out (not on every take). */
  prefetchFailed: boolean;
}

/** The limit in force and the block size for a reservation. */
export interface UsageLimits {
  readonly limit: number;
  readonly block: number;
}

/**
 * Counters of {@link DekUsageCounter}, for tests, status and the bench.
 *
 * @example
 * ```ts
 * const { reservations, reserved, used }: UsageStats = hierarchy.policies.usageStats;
 * console.log(`${used} encryptions counted; ${reserved} uses reserved in ${reservations} key-store statements`);
 * ```
 */
export interface UsageStats {
  /** Reservations made (key-store statements). */
  readonly reservations: number;
  /** Uses reserved in the key store by this process. */
  readonly reserved: number;
  /** Uses taken (values encrypted) by this process. */
  readonly used: number;
}

/** Entries kept; beyond it the oldest idle one is dropped (its unused uses are lost: conservative). */
const MAX_ENTRIES = 10_000;

/**
 * Counts encryptions per DEK without a key-store write per value: uses are reserved in blocks with
 * an atomic increment in the key store ({@link KeyStore.reserveDekUses}) and taken here by an
 * integer decrement. One reservation per DEK is in flight at a time; the next block is fetched in
 * the background when a quarter of the current one is left. Uses reserved by a process that ends
 * are never handed out again (conservative).
 *
 * @example
 * ```ts
 * const counter = new DekUsageCounter(keyStore);
 * if (!counter.take(dekId, 10, limits)) await counter.refill(dekId, 10, limits);
 * ```
 */
export class DekUsageCounter {
  readonly #entries = new Map<string, Entry>();
  #reservations = 0;
  #reserved = 0;
  #used = 0;

  constructor(private readonly keyStore: KeyStore) {}

  get stats(): UsageStats {
    return { reservations: this.#reservations, reserved: this.#reserved, used: this.#used };
  }

  /** Takes `n` uses of `dekId` from this process's block; false (nothing taken) when it has fewer. */
  take(dekId: string, n: number, limits: UsageLimits): boolean {
    const entry = this.#entries.get(dekId);
    if (entry === undefined || entry.remaining < n) return false;
    entry.remaining -= n;
    this.#used += n;
    if (entry.remaining * 4 < limits.block && entry.inFlight === undefined && !entry.exhausted && !entry.prefetchFailed) {
      entry.inFlight = this.#reserve(dekId, entry, limits.block, limits).catch(() => {
        entry.prefetchFailed = true;
      });
    }
    return true;
  }

  /**
   * Whether this process holds at least half a block of `dekId` (or the last uses of a spent DEK):
   * what `prepareSegments` makes sure of before a write transaction on a single-writer database.
   */
  prepared(dekId: string, limits: UsageLimits): boolean {
    const entry = this.#entries.get(dekId);
    return entry !== undefined && (entry.remaining * 2 >= limits.block || (entry.exhausted && entry.remaining > 0));
  }

  /** Whether the key store's count for `dekId` passed the limit (as far as this process knows). */
  exhausted(dekId: string): boolean {
    return this.#entries.get(dekId)?.exhausted === true;
  }

  /**
   * Makes sure this process holds at least `n` uses of `dekId`, reserving in the key store (after
   * the reservation in flight, if any); returns false when the DEK reached its limit.
   */
  async refill(dekId: string, n: number, limits: UsageLimits): Promise<boolean> {
    const entry = this.#entry(dekId);
    while (entry.inFlight !== undefined) await entry.inFlight;
    if (entry.remaining >= n) return true;
    if (entry.exhausted) return false;
    const reservation = this.#reserve(dekId, entry, Math.max(limits.block, n - entry.remaining), limits);
    entry.inFlight = reservation.catch(() => undefined);
    await reservation;
    entry.prefetchFailed = false;
    return entry.remaining >= n;
  }

  /** Resolves once no reservation is in flight. */
  async settled(): Promise<void> {
    for (;;) {
      const pending = [...this.#entries.values()].map((entry) => entry.inFlight).filter((p) => p !== undefined);
      if (pending.length === 0) return;
      await Promise.all(pending);
    }
  }

  /** Forgets a DEK (rotated away from): its unused uses are lost. */
  forget(dekId: string): void {
    this.#entries.delete(dekId);
  }

  #entry(dekId: string): Entry {
    let entry = this.#entries.get(dekId);
    if (entry === undefined) {
      if (this.#entries.size >= MAX_ENTRIES) this.#dropOldestIdle();
      entry = { remaining: 0, exhausted: false, inFlight: undefined, prefetchFailed: false };
      this.#entries.set(dekId, entry);
    }
    return entry;
  }

  #dropOldestIdle(): void {
    for (const [id, entry] of this.#entries) {
      if (entry.inFlight === undefined) {
        this.#entries.delete(id);
        return;
      }
    }
  }

  /** One atomic increment; the part of the block at or past the limit is unusable. */
  async #reserve(dekId: string, entry: Entry, count: number, limits: UsageLimits): Promise<void> {
    try {
      const total = (await this.keyStore.reserveDekUses([{ dekId, count }])).get(dekId);
      if (total === undefined || !Number.isFinite(total)) throw new KeystrataError('KEYSTORE_UNAVAILABLE', 'The key store did not return the reserved DEK use count.');
      this.#reservations++;
      this.#reserved += count;
      const usable = Math.max(0, Math.min(count, limits.limit - (total - count)));
      entry.remaining += usable;
      if (usable < count || total >= limits.limit) entry.exhausted = true;
    } finally {
      entry.inFlight = undefined;
    }
  }
}
