import type { KeyState } from './records.js';

/**
 * One entry of the key store's change log (`keystrata_key_change`): a key changed state (disable,
 * enable, destroy, a CMK's destruction in a shred epoch, a tombstone). Identifiers only, never key
 * material. `seq` is the store's revocation sequence number: it rises by one per change, in commit
 * order, so "what changed since N" is one query.
 *
 * @example
 * ```ts
 * const { changes, latest } = await keyStore.listKeyChanges!(lastSeq);
 * for (const { seq, level, keyring, id, state } of changes) console.log(seq, level, keyring, id, state); // 42 'dek' 'default' '…' 'disabled'
 * lastSeq = latest;
 * ```
 */
export interface KeyChange {
  readonly seq: number;
  /** Which level of the hierarchy changed: a DEK (by id), a KEK version or a CMK version. */
  readonly level: 'dek' | 'kek' | 'cmk';
  readonly keyring: string;
  /** The DEK id, or the KEK/CMK version as a decimal string. */
  readonly id: string;
  /** The DEK's segment; `''` for KEK and CMK versions. */
  readonly segment: string;
  /** The state the key moved to (`destroyed` for a tombstone). */
  readonly state: KeyState;
  readonly at: string;
}

/**
 * A change before the store numbered it.
 *
 * @example
 * ```ts
 * // A KeyStore implementation logs one in the transaction that changes the key's state:
 * const entry: KeyChangeEntry = { level: 'dek', keyring: dek.keyring, id: dek.id, segment: dek.segment, state: 'disabled', at };
 * changes.push({ seq: changes.length + 1, ...entry });
 * ```
 */
export type KeyChangeEntry = Omit<KeyChange, 'seq'>;

/**
 * The answer to "what changed after seq N": at most `limit` changes in order, and the newest seq.
 *
 * @example
 * ```ts
 * const page: KeyChangePage = await keyStore.listKeyChanges!(lastSeq);
 * if (page.truncated) cache.clear(); // too many changes to tell which keys: drop every cached key
 * else for (const change of page.changes) cache.evict(change);
 * lastSeq = page.latest;
 * ```
 */
export interface KeyChangePage {
  readonly changes: readonly KeyChange[];
  /** The highest seq in the store (0 for none): the caller is up to date with it once it applied `changes`. */
  readonly latest: number;
  /** More changes than one page: the caller cannot tell which keys changed and drops its whole cache. */
  readonly truncated: boolean;
  /**
   * The logged change at `afterSeq` (without `afterSeq`: the newest one), so the caller can tell its
   * log was not rewritten under it: a key store restored from a backup restarts its seqs, and a
   * reader that only asks "after N" would miss every new change numbered N or below. `null` when no
   * change has that seq. Optional for other implementations (absent: no such check).
   */
  readonly anchor?: KeyChange | null;
}

/**
 * What identifies one logged change beyond its seq (a restored log reuses seqs).
 *
 * @example
 * ```ts
 * const rewritten = page.anchor === undefined || changeFingerprint(page.anchor) !== remembered;
 * ```
 */
export function changeFingerprint(change: KeyChange): string {
  return `${change.seq}\u0000${change.level}\u0000${change.keyring}\u0000${change.id}\u0000${change.state}\u0000${change.at}`;
}

/**
 * What a key store that can push changes (PostgreSQL `LISTEN`/`NOTIFY`) calls. `onChange` may
 * arrive before the change's row is visible to other connections; `onLost` means notifications may
 * have been missed since the last `onReady`, so the listener must re-read the change log before it
 * trusts its cache again.
 *
 * @example
 * ```ts
 * const subscription = keyStore.watchKeyChanges?.({
 *   onReady: () => void catchUp(), // read listKeyChanges(lastSeq) once more; pushes suffice from now on
 *   onChange: (change) => cache.evict(change),
 *   onLost: () => (pushed = false), // re-read the change log before trusting the cache again
 * });
 * ```
 */
export interface KeyChangeHandlers {
  /** The notification connection listens (again); changes from now on are pushed. */
  onReady(): void;
  onChange(change: KeyChange): void;
  /** The notification connection broke (it reconnects by itself). */
  onLost(): void;
}

/**
 * A running subscription; `close()` ends it (idempotent).
 *
 * @example
 * ```ts
 * const subscription: KeyChangeSubscription | undefined = keyStore.watchKeyChanges?.(handlers); // undefined: the store cannot push
 * await subscription?.close(); // on shutdown; closing again does nothing
 * ```
 */
export interface KeyChangeSubscription {
  close(): Promise<void>;
}

/**
 * How many changes one catch-up query reads at most; a longer gap clears the whole cache instead.
 *
 * @example
 * ```ts
 * const page = changes.length > KEY_CHANGE_PAGE ? { changes: [], latest, truncated: true } : { changes, latest, truncated: false };
 * ```
 */
export const KEY_CHANGE_PAGE = 1000;

/** The PostgreSQL notification channel of key changes (the payload names the schema). */
export const KEY_CHANGE_CHANNEL = 'keystrata_key_change';

/**
 * The NOTIFY payload: `<schema> <json of the change>` (identifiers and state only, well under the
 * 8000-byte limit).
 *
 * @example
 * ```ts
 * parseKeyChangePayload(`public ${JSON.stringify(change)}`, 'public'); // → change
 * ```
 */
export function parseKeyChangePayload(payload: string, schema: string): KeyChange | undefined {
  const space = payload.indexOf(' ');
  if (space < 0 || payload.slice(0, space) !== schema) return undefined;
  try {
    const value = JSON.parse(payload.slice(space + 1)) as Partial<KeyChange>;
    if (typeof value.seq !== 'number' || typeof value.keyring !== 'string' || typeof value.id !== 'string') return undefined;
    if (value.level !== 'dek' && value.level !== 'kek' && value.level !== 'cmk') return undefined;
    return { seq: value.seq, level: value.level, keyring: value.keyring, id: value.id, segment: String(value.segment ?? ''), state: value.state as KeyState, at: String(value.at ?? '') };
  } catch {
    return undefined;
  }
}
