import type { CmkRecord, DekRecord, KekRecord, TombstoneRecord } from '../key-store/records.js';
import type { HierarchyInternals } from '../hierarchy/internals.js';

/**
 * The destroyed keys a restore must respect: the store's tombstones merged with the backup's.
 *
 * @example
 * ```ts
 * const tombstones = new Tombstones(await keyStore.listTombstones());
 * tombstones.has('dek', 'default', id); // true: restore it as destroyed
 * ```
 */
export class Tombstones {
  readonly #keys = new Set<string>();

  constructor(records: readonly TombstoneRecord[]) {
    for (const t of records) this.add(t);
  }

  /** Adds a tombstone; false when it was already known. */
  add(t: Pick<TombstoneRecord, 'kind' | 'keyring' | 'id'>): boolean {
    const key = `${t.kind}\u0000${t.keyring}\u0000${t.id}`;
    if (this.#keys.has(key)) return false;
    this.#keys.add(key);
    return true;
  }

  has(kind: TombstoneRecord['kind'], keyring: string, id: string): boolean {
    return this.#keys.has(`${kind}\u0000${keyring}\u0000${id}`);
  }
}

/**
 * How a backed-up CMK version is restored: as destroyed when tombstoned or when the HSM no longer
 * holds it (a shred epoch or `destroy cmk` removed it), else as it was.
 *
 * @example
 * ```ts
 * const { record, missingInHsm } = await restoreCmk(h, backed, tombstones, at);
 * ```
 */
export async function restoreCmk(
  h: HierarchyInternals,
  backed: CmkRecord,
  tombstones: Tombstones,
  at: string,
): Promise<{ record: CmkRecord; state: CmkRecord['state']; missingInHsm: boolean } & Pick<CmkRecord, 'keyring' | 'version' | 'hsmLabel'>> {
  const dead = backed.state === 'destroyed' || backed.state === 'retired';
  const missingInHsm = !dead && !(await h.rootKey.hasCmk({ label: backed.hsmLabel, id: backed.hsmId }));
  const tombstoned = tombstones.has('cmk', backed.keyring, String(backed.version));
  const record: CmkRecord = !dead && (missingInHsm || tombstoned) ? { ...backed, state: 'destroyed', updatedAt: at } : backed;
  return { record, state: record.state, missingInHsm, keyring: backed.keyring, version: backed.version, hsmLabel: backed.hsmLabel };
}

/**
 * How a backed-up KEK version is restored: destroyed (blob erased) when tombstoned or under a
 * destroyed CMK version.
 *
 * @example
 * ```ts
 * const kek = restoreKek(backed, tombstones, deadCmks, at);
 * ```
 */
export function restoreKek(backed: KekRecord, tombstones: Tombstones, deadCmks: ReadonlySet<string>, at: string): KekRecord {
  const dead = tombstones.has('kek', backed.keyring, String(backed.version)) || deadCmks.has(`${backed.keyring}/${backed.cmkVersion}`);
  return dead && backed.state !== 'destroyed' ? { ...backed, state: 'destroyed', wrapped: '', updatedAt: at } : backed;
}

/**
 * How a backed-up DEK is restored: destroyed (blob erased) when tombstoned or under a destroyed
 * KEK version; never as primary again after a shred.
 *
 * @example
 * ```ts
 * const dek = restoreDek(backed, tombstones, deadKeks, at);
 * ```
 */
export function restoreDek(backed: DekRecord, tombstones: Tombstones, deadKeks: ReadonlySet<string>, at: string): DekRecord {
  const dead = tombstones.has('dek', backed.keyring, backed.id) || deadKeks.has(`${backed.keyring}/${backed.kekVersion}`);
  return dead && backed.state !== 'destroyed' ? { ...backed, state: 'destroyed', wrapped: '', updatedAt: at } : backed;
}

/**
 * Keeps one primary version per keyring while restoring: returns a function that passes a record
 * through, or demotes it to `enabled` when the keyring already has a primary.
 *
 * @example
 * ```ts
 * const keep = onePrimary(await keyStore.listCmks(), at);
 * await keyStore.insertCmk(keep(record));
 * ```
 */
export function onePrimary(existing: ReadonlyArray<{ keyring: string; state: string }>, at: string): <T extends { keyring: string; state: CmkRecord['state']; updatedAt: string }>(record: T) => T {
  const keyrings = new Set(existing.filter((r) => r.state === 'primary').map((r) => r.keyring));
  return (record) => {
    if (record.state !== 'primary') return record;
    if (keyrings.has(record.keyring)) return { ...record, state: 'enabled', updatedAt: at };
    keyrings.add(record.keyring);
    return record;
  };
}
