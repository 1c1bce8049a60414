import type { KeyStore } from '../key-store/key-store.js';

/** What a pass over the trail saw, for {@link keysWithoutGenerateRecord}. */
export interface TrailSummary {
  /** Subjects of `generate` records, e.g. `cmk:default:v1`. */
  readonly generated: ReadonlySet<string>;
  /** Time of the newest `restore` record: keys created before it came from a backup. */
  readonly lastRestoreAt: string | undefined;
  /** HSM object ids (`hsmId`) and labels (`hsmLabel`) that `generate` records name, by CMK subject. */
  readonly cmkObjects?: ReadonlyMap<string, { readonly ids: ReadonlySet<string>; readonly labels: ReadonlySet<string> }>;
}

/** Whether the trail's `generate` records of this CMK name its HSM object (by id, or by label where no id was recorded). */
function sameCmkObject(recorded: { readonly ids: ReadonlySet<string>; readonly labels: ReadonlySet<string> } | undefined, cmk: { hsmId: string; hsmLabel: string }): boolean {
  if (recorded === undefined) return true;
  if (recorded.ids.size > 0) return recorded.ids.has(cmk.hsmId);
  return recorded.labels.size === 0 || recorded.labels.has(cmk.hsmLabel);
}

/**
 * The CMK and KEK versions in the key store that the trail never recorded as generated: a
 * truncated, emptied or replaced trail has such keys. A CMK whose `generate` records name another
 * HSM object (another key store's trail on the same token) counts as not recorded. Keys older than
 * the newest `restore` record count as restored from a backup.
 *
 * @example
 * ```ts
 * const missing = await keysWithoutGenerateRecord(keyStore, { generated, lastRestoreAt });
 * ```
 */
export async function keysWithoutGenerateRecord(keyStore: KeyStore, trail: TrailSummary): Promise<string[]> {
  const restored = (createdAt: string): boolean => trail.lastRestoreAt !== undefined && createdAt <= trail.lastRestoreAt;
  const subjects = [
    ...(await keyStore.listCmks()).map((cmk) => {
      const subject = `cmk:${cmk.keyring}:v${cmk.version}`;
      return { subject, createdAt: cmk.createdAt, sameObject: sameCmkObject(trail.cmkObjects?.get(subject), cmk) };
    }),
    ...(await keyStore.listKeks()).map((kek) => ({ subject: `kek:${kek.keyring}:v${kek.version}`, createdAt: kek.createdAt, sameObject: true })),
  ];
  return subjects.filter(({ subject, createdAt, sameObject }) => !(trail.generated.has(subject) && sameObject) && !restored(createdAt)).map(({ subject }) => subject);
}
