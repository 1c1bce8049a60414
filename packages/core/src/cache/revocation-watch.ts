import { KeystrataError } from '../errors/keystrata-error.js';
import { changeFingerprint, type KeyChange, type KeyChangeSubscription } from '../key-store/key-changes.js';
import type { KeyStore } from '../key-store/key-store.js';

/** Counters of a {@link RevocationWatch}, in `KeyHierarchy.stats()`. */
export interface RevocationWatchStats {
  /** `push`: PostgreSQL notifications live and caught up; `poll`: a change-log query per interval; `off`: the store keeps no change log. */
  readonly mode: 'push' | 'poll' | 'off';
  /** The newest change this process applied. */
  readonly seq: number;
  /** Change-log queries made. */
  readonly checks: number;
}

/** What the {@link RevocationWatch} needs: the key store, the interval, and how to evict. */
export interface RevocationWatchOptions {
  readonly keyStore: KeyStore;
  /** At most one change-log query per this many ms while no push channel is live (`cache.revocationCheckMs`). */
  readonly checkMs: number;
  /** Evicts the keys one change names (zero-filled as eviction does; leased copies live until released). */
  readonly evict: (change: KeyChange) => void;
  /** Evicts every cached key (the change log was longer than one page, or restarted). */
  readonly evictAll: () => void;
  /** Clock for tests. */
  readonly now?: () => number;
}

/**
 * Keeps a process's key cache in step with revocations made by other processes (issue 15 §1,
 * docs/many-instances.md). Before a cached key is served, {@link RevocationWatch.beforeServe} asks
 * the key store "what changed since my last seq" when its last answer is older than `checkMs` (one
 * query shared by concurrent callers; none in between), and evicts what changed. Where the store
 * pushes changes (PostgreSQL `LISTEN`/`NOTIFY`) and the push channel is live and caught up, no query
 * is made at all; once the channel is lost, the next serve waits for a re-check first. A failed
 * re-check fails the operation (KEYSTORE_UNAVAILABLE): never served from a cache that may be stale.
 *
 * @example
 * ```ts
 * const watch = new RevocationWatch({ keyStore, checkMs: 1000, evict: (change) => resolver.evictChange(change), evictAll: () => resolver.clear() });
 * await watch.start();
 * const pending = watch.beforeServe();
 * if (pending !== undefined) await pending;
 * ```
 */
export class RevocationWatch {
  readonly #options: RevocationWatchOptions;
  readonly #now: () => number;
  #lastSeq: number | undefined;
  /** {@link changeFingerprint} of the change at `#lastSeq`, when known: a rewritten log no longer has it. */
  #lastFingerprint: string | undefined;
  #checkedAt = Number.NEGATIVE_INFINITY;
  #inFlight: Promise<void> | undefined;
  #pushed = false;
  /** Bumped when the push channel is lost: a catch-up begun before that must not declare it live. */
  #channelEpoch = 0;
  #subscription: KeyChangeSubscription | undefined;
  #closed = false;
  #checks = 0;

  constructor(options: RevocationWatchOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Whether the key store keeps a change log (else the cache relies on `maxAgeMs` alone). */
  get supported(): boolean {
    return typeof this.#options.keyStore.listKeyChanges === 'function';
  }

  /** Whether pushed changes are live and caught up (no query before serving). */
  get pushed(): boolean {
    return this.#pushed;
  }

  get stats(): RevocationWatchStats {
    return { mode: !this.supported ? 'off' : this.#pushed ? 'push' : 'poll', seq: this.#lastSeq ?? 0, checks: this.#checks };
  }

  /** Subscribes where the store pushes, then reads the newest seq: the baseline, before anything is cached. */
  async start(): Promise<void> {
    if (!this.supported) return;
    this.#subscription = this.#options.keyStore.watchKeyChanges?.({
      onReady: () => this.#onReady(),
      onChange: (change) => this.#onChange(change),
      onLost: () => this.#onLost(),
    });
    await this.#check(true);
  }

  /**
   * Undefined when the cache may be served as it is; else a promise that re-checks the change log
   * first (and rejects with KEYSTORE_UNAVAILABLE when the key store cannot answer).
   */
  beforeServe(): Promise<void> | undefined {
    if (this.#pushed || this.#closed || !this.supported) return undefined;
    if (this.#lastSeq !== undefined && this.#now() - this.#checkedAt < this.#options.checkMs) return undefined;
    return this.#check(false);
  }

  /** Ends the push subscription (idempotent). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#pushed = false;
    const subscription = this.#subscription;
    this.#subscription = undefined;
    await subscription?.close();
  }

  /** One shared query; `fresh` starts a new one after any in flight (its snapshot may predate a LISTEN). */
  #check(fresh: boolean): Promise<void> {
    if (this.#inFlight !== undefined && !fresh) return this.#inFlight;
    const previous = this.#inFlight ?? Promise.resolve();
    const run = previous
      .catch(() => undefined)
      .then(() => this.#query())
      .finally(() => {
        if (this.#inFlight === run) this.#inFlight = undefined;
      });
    this.#inFlight = run;
    return run;
  }

  async #query(): Promise<void> {
    const startedAt = this.#now();
    const epoch = this.#channelEpoch;
    this.#checks++;
    let page: Awaited<ReturnType<NonNullable<KeyStore['listKeyChanges']>>>;
    try {
      page = await this.#options.keyStore.listKeyChanges!(this.#lastSeq);
    } catch (error) {
      if (KeystrataError.isInstance(error)) throw error;
      throw new KeystrataError('KEYSTORE_UNAVAILABLE', 'Checking the key store for revoked keys failed; cached keys are not used until it answers.', { cause: error });
    }
    // The change this process saw last is gone or different: the log was rewritten (a key store
    // restored from a backup restarts its seqs), so which keys changed is unknown.
    const anchor = page.anchor;
    const rewritten =
      this.#lastSeq !== undefined && this.#lastSeq > 0 && anchor !== undefined && (anchor === null || (this.#lastFingerprint !== undefined && changeFingerprint(anchor) !== this.#lastFingerprint));
    if (this.#lastSeq !== undefined) {
      // More changes than one page: which keys changed is unknown, so every key goes.
      if (page.truncated || rewritten) this.#options.evictAll();
      else for (const change of page.changes) this.#options.evict(change);
    }
    // A pushed change may have moved past this query's snapshot meanwhile: never go back (unless the log was rewritten).
    const latest = rewritten ? page.latest : Math.max(this.#lastSeq ?? 0, page.latest);
    const newest = page.changes.at(-1) ?? (anchor?.seq === latest ? anchor : undefined);
    if (newest?.seq === latest) this.#lastFingerprint = changeFingerprint(newest);
    else if (rewritten || latest !== this.#lastSeq) this.#lastFingerprint = undefined;
    this.#lastSeq = latest;
    // A channel lost while this query ran: its answer may predate the loss, so the next serve asks again.
    if (epoch === this.#channelEpoch) this.#checkedAt = startedAt;
  }

  #onReady(): void {
    const epoch = this.#channelEpoch;
    // LISTEN is active: whatever committed before it is read once more, then pushes alone suffice.
    this.#check(true).then(
      () => {
        if (epoch === this.#channelEpoch && !this.#closed) this.#pushed = true;
      },
      () => undefined, // the next serve re-checks (and fails closed while the store does not answer)
    );
  }

  #onChange(change: KeyChange): void {
    this.#options.evict(change);
    if (this.#lastSeq !== undefined && change.seq === this.#lastSeq + 1) {
      this.#lastSeq = change.seq;
      this.#lastFingerprint = changeFingerprint(change);
    }
  }

  #onLost(): void {
    this.#channelEpoch++;
    this.#pushed = false;
    this.#checkedAt = Number.NEGATIVE_INFINITY; // the next serve waits for "changes since my last seq"
  }
}
