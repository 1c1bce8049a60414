import type { KeyCacheStats } from '../cache/key-cache.js';
import type { DekCount } from '../key-store/key-store.js';
import type { CmkRecord, KekRecord } from '../key-store/records.js';
import type { HierarchyInternals } from './internals.js';

/** One keyring of the {@link HierarchyStatus}. */
export interface KeyringStatus {
  readonly keyring: string;
  readonly cmks: ReadonlyArray<Pick<CmkRecord, 'version' | 'state' | 'hsmLabel' | 'createdAt'>>;
  readonly keks: ReadonlyArray<Pick<KekRecord, 'version' | 'state' | 'cmkVersion' | 'createdAt'>>;
  readonly deks: Readonly<Record<string, number>>;
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
  const [cmks, keks, counts] = await Promise.all([h.keyStore.listCmks(), h.keyStore.listKeks(), h.keyStore.countDeks()]);
  const names = [...new Set([...cmks.map((c) => c.keyring), ...keks.map((k) => k.keyring)])].sort();
  const dekCounts = (keyring: string, all: readonly DekCount[]) =>
    Object.fromEntries(all.filter((c) => c.keyring === keyring).map((c) => [c.state, c.count]));
  return {
    root: h.rootKey.description,
    keyrings: names.map((keyring) => ({
      keyring,
      cmks: cmks.filter((c) => c.keyring === keyring).map(({ version, state, hsmLabel, createdAt }) => ({ version, state, hsmLabel, createdAt })),
      keks: keks.filter((k) => k.keyring === keyring).map(({ version, state, cmkVersion, createdAt }) => ({ version, state, cmkVersion, createdAt })),
      deks: dekCounts(keyring, counts),
    })),
    stats: stats(),
  };
}
