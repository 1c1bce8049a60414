import type { KeyCacheStats } from '../cache/key-cache.js';
import type { DekCount } from '../key-store/key-store.js';
import type { CmkRecord, KekRecord, TombstoneRecord } from '../key-store/records.js';
import { shredJobId } from '../shred/shred-job.js';
import type { HierarchyInternals } from './internals.js';

/** One keyring of the {@link HierarchyStatus}. */
export interface KeyringStatus {
  readonly keyring: string;
  readonly cmks: ReadonlyArray<Pick<CmkRecord, 'version' | 'state' | 'hsmLabel' | 'createdAt'>>;
  readonly keks: ReadonlyArray<Pick<KekRecord, 'version' | 'state' | 'cmkVersion' | 'createdAt'>>;
  readonly deks: Readonly<Record<string, number>>;
  readonly shreds: ShredStatus;
}

/** One destroyed key in {@link ShredStatus}. */
export type TombstoneSummary = Pick<TombstoneRecord, 'kind' | 'id' | 'segment' | 'destroyedAt' | 'durableAt'>;

/**
 * Which destroyed keys of a keyring are durably gone (their old wrapped blobs end at a CMK version
 * destroyed in the HSM) and since when, and which await a shred epoch (`keystrata shred complete`).
 */
export interface ShredStatus {
  readonly durable: number;
  readonly pending: number;
  /** The oldest destruction still awaiting an epoch, if any. */
  readonly pendingSince: string | null;
  /** When the newest epoch made shreds durable, if ever. */
  readonly lastDurableAt: string | null;
  /** Up to 50 destroyed keys, pending first, then the most recently made durable. */
  readonly keys: readonly TombstoneSummary[];
  /** Last progress of an epoch that is running or was interrupted (`keystrata shred complete` finishes it), else null. */
  readonly epochRunningSince: string | null;
}

const SHOWN_TOMBSTONES = 50;

function shredStatus(tombstones: readonly TombstoneRecord[], epochRunningSince: string | null): ShredStatus {
  const pending = tombstones.filter((t) => t.durableAt === null);
  const durable = tombstones.filter((t) => t.durableAt !== null).sort((a, b) => b.durableAt!.localeCompare(a.durableAt!));
  return {
    durable: durable.length, pending: pending.length,
    pendingSince: pending[0]?.destroyedAt ?? null, lastDurableAt: durable[0]?.durableAt ?? null,
    keys: [...pending, ...durable].slice(0, SHOWN_TOMBSTONES).map(({ kind, id, segment, destroyedAt, durableAt }) => ({ kind, id, segment, destroyedAt, durableAt })),
    epochRunningSince,
  };
}

/** Operation counters. */
export interface HierarchyStats {
  readonly deks: KeyCacheStats;
  readonly keks: KeyCacheStats;
  readonly hsmCalls: number;
  readonly hsmReconnects: number;
  readonly keyStoreQueries: number;
}

/** The whole hierarchy, for `keystrata status`. */
export interface HierarchyStatus {
  readonly root: string;
  readonly keyrings: readonly KeyringStatus[];
  readonly stats: HierarchyStats;
}

/** Collects the status of every keyring. */
export async function hierarchyStatus(h: HierarchyInternals, stats: () => HierarchyStats): Promise<HierarchyStatus> {
  const [cmks, keks, counts, tombstones] = await Promise.all([h.keyStore.listCmks(), h.keyStore.listKeks(), h.keyStore.countDeks(), h.keyStore.listTombstones()]);
  const names = [...new Set([...cmks.map((c) => c.keyring), ...keks.map((k) => k.keyring)])].sort();
  const epochs = new Map(await Promise.all(names.map(async (keyring) => {
    const job = await h.keyStore.getJob(shredJobId(keyring));
    return [keyring, job?.state === 'running' ? job.updatedAt : null] as const;
  })));
  const dekCounts = (keyring: string, all: readonly DekCount[]) =>
    Object.fromEntries(all.filter((c) => c.keyring === keyring).map((c) => [c.state, c.count]));
  return {
    root: h.rootKey.description,
    keyrings: names.map((keyring) => ({
      keyring,
      cmks: cmks.filter((c) => c.keyring === keyring).map(({ version, state, hsmLabel, createdAt }) => ({ version, state, hsmLabel, createdAt })),
      keks: keks.filter((k) => k.keyring === keyring).map(({ version, state, cmkVersion, createdAt }) => ({ version, state, cmkVersion, createdAt })),
      deks: dekCounts(keyring, counts),
      shreds: shredStatus(tombstones.filter((t) => t.keyring === keyring), epochs.get(keyring) ?? null),
    })),
    stats: stats(),
  };
}
