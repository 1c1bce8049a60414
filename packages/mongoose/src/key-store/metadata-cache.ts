import type { CmkRecord, KekRecord } from '@keystrata/core';

interface Slot<T> {
  records: T[];
  loadedAt: number;
}

/** The KEK and CMK versions of one keyring, as last read. */
export interface KeyringMetadata {
  readonly keks: readonly KekRecord[];
  readonly cmks: readonly CmkRecord[];
}

/**
 * KEK and CMK version records per keyring, for servers without `$lookup` (FerretDB): a DEK lookup
 * is then one `find` on the DEK collection joined with these. Every listing and every write of the
 * store refreshes the cache; another process's change is seen after `maxAgeMs`, or at once when a
 * DEK names a KEK version the cache does not hold.
 *
 * @example
 * ```ts
 * const cache = new MetadataCache(5_000);
 * cache.fill('kek', 'default', keks);
 * cache.fill('cmk', 'default', cmks);
 * cache.get('default', [1]); // { keks, cmks } when fresh and holding KEK v1
 * ```
 */
export class MetadataCache {
  readonly #keks = new Map<string, Slot<KekRecord>>();
  readonly #cmks = new Map<string, Slot<CmkRecord>>();
  readonly #maxAgeMs: number;

  constructor(maxAgeMs: number) {
    this.#maxAgeMs = maxAgeMs;
  }

  #fresh<T>(slot: Slot<T> | undefined): T[] | undefined {
    return slot !== undefined && Date.now() - slot.loadedAt <= this.#maxAgeMs ? slot.records : undefined;
  }

  /** A keyring's records when both are fresh and the KEKs include every version in `kekVersions`. */
  get(keyring: string, kekVersions: Iterable<number>): KeyringMetadata | undefined {
    const keks = this.#fresh(this.#keks.get(keyring));
    const cmks = this.#fresh(this.#cmks.get(keyring));
    if (keks === undefined || cmks === undefined) return undefined;
    for (const v of kekVersions) if (!keks.some((k) => k.version === v)) return undefined;
    return { keks, cmks };
  }

  /** Replaces a keyring's KEK or CMK records with a complete, fresh read. */
  fill(kind: 'kek', keyring: string, records: readonly KekRecord[]): void;
  fill(kind: 'cmk', keyring: string, records: readonly CmkRecord[]): void;
  fill(kind: 'kek' | 'cmk', keyring: string, records: readonly (KekRecord | CmkRecord)[]): void {
    const map = (kind === 'kek' ? this.#keks : this.#cmks) as Map<string, Slot<KekRecord | CmkRecord>>;
    map.set(keyring, { records: [...records], loadedAt: Date.now() });
  }

  /** Applies one record this store just wrote. */
  put(kind: 'kek' | 'cmk', record: KekRecord | CmkRecord): void {
    const slot = (kind === 'kek' ? this.#keks : this.#cmks).get(record.keyring) as Slot<KekRecord | CmkRecord> | undefined;
    if (slot === undefined) return;
    const index = slot.records.findIndex((r) => r.version === record.version);
    if (index < 0) slot.records.push(record);
    else slot.records[index] = record;
  }

  clear(): void {
    this.#keks.clear();
    this.#cmks.clear();
  }
}
