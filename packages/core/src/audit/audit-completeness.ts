import type { KeyStore } from '../key-store/key-store.js';

/** What a pass over the trail saw, for {@link keysWithoutGenerateRecord}. */
export interface TrailSummary {
  /** Subjects of `generate` records, e.g. `cmk:default:v1`. */
  readonly generated: ReadonlySet<string>;
  /** Time of the newest `restore` record: keys created before it came from a backup. */
  readonly lastRestoreAt: string | undefined;
}

/**
 * The CMK and KEK versions in the key store that the trail never recorded as generated: a
 * truncated, emptied or replaced trail has such keys. Keys older than the newest `restore` record
 * count as restored from a backup.
 *
 * @example
 * ```ts
 * const missing = await keysWithoutGenerateRecord(keyStore, { generated, lastRestoreAt });
 * ```
 */
export async function keysWithoutGenerateRecord(keyStore: KeyStore, trail: TrailSummary): Promise<string[]> {
  const restored = (createdAt: string): boolean => trail.lastRestoreAt !== undefined && createdAt <= trail.lastRestoreAt;
  const subjects = [
    ...(await keyStore.listCmks()).map((cmk) => ({ subject: `cmk:${cmk.keyring}:v${cmk.version}`, createdAt: cmk.createdAt })),
    ...(await keyStore.listKeks()).map((kek) => ({ subject: `kek:${kek.keyring}:v${kek.version}`, createdAt: kek.createdAt })),
  ];
  return subjects.filter(({ subject, createdAt }) => !trail.generated.has(subject) && !restored(createdAt)).map(({ subject }) => subject);
}
