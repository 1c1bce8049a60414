import type { KeyCacheStats } from '../cache/key-cache.js';
import type { DekCount } from '../key-store/key-store.js';
import type { CmkRecord, KekRecord, TombstoneRecord } from '../key-store/records.js';
import { shredJobId } from '../shred/shred-job.js';
import { RESERVED_SEGMENT_PREFIX } from './context-checks.js';
import type { HierarchyInternals } from './internals.js';
import type { RevocationWatchStats } from '../cache/revocation-watch.js';
import { policyStatus, type PolicyStatus } from '../policy/policy-status.js';
import type { RootMemberStats } from '../root-key/root-key.js';

/** The segment of a keyring's blind-index root key (not a data segment). */
const BLIND_INDEX_SEGMENT = `${RESERVED_SEGMENT_PREFIX}/blind-index`;

/**
 * One keyring of the {@link HierarchyStatus}.
 *
 * @example
 * ```ts
 * for (const ring of (await hierarchy.status()).keyrings) {
 *   const kek = ring.keks.find((k) => k.state === 'primary');
 *   console.log(ring.keyring, `KEK v${kek?.version}`, ring.deks, `${ring.shreds.pending} shred(s) pending`); // deks: { primary: 3 }
 * }
 * ```
 */
export interface KeyringStatus {
  readonly keyring: string;
  readonly cmks: ReadonlyArray<Pick<CmkRecord, 'version' | 'state' | 'hsmLabel' | 'createdAt'>>;
  readonly keks: ReadonlyArray<Pick<KekRecord, 'version' | 'state' | 'cmkVersion' | 'createdAt'>>;
  /** Data-encryption keys by state; the blind-index root key is not among them. */
  readonly deks: Readonly<Record<string, number>>;
  /** The keyring's blind-index root key(s) by state (segment `__keystrata/blind-index`): derives the HMAC keys of blind indexes, encrypts no data. */
  readonly blindIndexKeys: Readonly<Record<string, number>>;
  readonly shreds: ShredStatus;
  /** The rotation policy, when rotations are next due, usage counts (docs/rotation-policies.md). */
  readonly policy?: PolicyStatus;
}

/**
 * One destroyed key in {@link ShredStatus}.
 *
 * @example
 * ```ts
 * const [ring] = (await hierarchy.status()).keyrings;
 * for (const key of ring?.shreds.keys ?? []) console.log(key.kind, key.id, key.durableAt ?? `pending since ${key.destroyedAt}`);
 * ```
 */
export type TombstoneSummary = Pick<TombstoneRecord, 'kind' | 'id' | 'segment' | 'destroyedAt' | 'durableAt'>;

/**
 * Which destroyed keys of a keyring are durably gone (their old wrapped blobs end at a CMK version
 * destroyed in the HSM) and since when, and which await a shred epoch (`keystrata shred complete`).
 *
 * @example
 * ```ts
 * const shreds: ShredStatus = (await hierarchy.status()).keyrings[0]!.shreds;
 * if (shreds.pending > 0) console.log(`${shreds.pending} shred(s) pending since ${shreds.pendingSince}: run completeShreds()`);
 * ```
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
    durable: durable.length,
    pending: pending.length,
    pendingSince: pending[0]?.destroyedAt ?? null,
    lastDurableAt: durable[0]?.durableAt ?? null,
    keys: [...pending, ...durable].slice(0, SHOWN_TOMBSTONES).map(({ kind, id, segment, destroyedAt, durableAt }) => ({ kind, id, segment, destroyedAt, durableAt })),
    epochRunningSince,
  };
}

/**
 * Operation counters.
 *
 * @example
 * ```ts
 * const { deks, keks, hsmCalls, keyStoreQueries }: HierarchyStats = hierarchy.stats();
 * console.log(`DEK cache ${deks.hits} hits / ${deks.misses} misses, ${keks.size} KEKs, ${hsmCalls} HSM calls, ${keyStoreQueries} queries`);
 * ```
 */
export interface HierarchyStats {
  readonly deks: KeyCacheStats;
  readonly keks: KeyCacheStats;
  readonly hsmCalls: number;
  readonly hsmReconnects: number;
  readonly keyStoreQueries: number;
  /** How this process learns of other processes' revocations (docs/many-instances.md). */
  readonly revocations?: RevocationWatchStats;
  /** Which AES-256-GCM seals and opens field values: the `@keystrata/native` addon, or node:crypto (same output; without the addon, or `aead: 'node:crypto'`). */
  readonly aead: 'native' | 'node:crypto';
  /** Per member, for a root of several members (`MemberRootKey`): state and calls answered. */
  readonly hsmMembers?: readonly RootMemberStats[];
}

/**
 * The whole hierarchy, for `keystrata status`.
 *
 * @example
 * ```ts
 * const { root, keyrings, stats }: HierarchyStatus = await hierarchy.status();
 * console.log(root, keyrings.map((ring) => ring.keyring), stats.hsmCalls); // 'pkcs11 token "keystrata-dev"' [ 'default' ] …
 * ```
 */
export interface HierarchyStatus {
  readonly root: string;
  readonly keyrings: readonly KeyringStatus[];
  readonly stats: HierarchyStats;
}

/** Counts by state of the keyring's blind-index keys (at most a few versions). */
async function blindIndexCounts(h: HierarchyInternals, keyring: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let afterId: string | undefined; ; ) {
    const page = await h.keyStore.listDeks({ keyring, segment: BLIND_INDEX_SEGMENT, limit: 100, ...(afterId === undefined ? {} : { afterId }) });
    for (const dek of page) counts[dek.state] = (counts[dek.state] ?? 0) + 1;
    if (page.length < 100) return counts;
    afterId = page.at(-1)!.id;
  }
}

/** DEK counts by state without the blind-index keys. */
function dataDekCounts(all: readonly DekCount[], keyring: string, index: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of all) {
    const n = c.keyring === keyring ? c.count - (index[c.state] ?? 0) : 0;
    if (n > 0) out[c.state] = n;
  }
  return out;
}

/**
 * Collects the status of every keyring; the blind-index root key is counted apart from the DEKs.
 *
 * @example
 * ```ts
 * const { keyrings } = await hierarchyStatus(internals, () => stats);
 * keyrings[0].deks; // { primary: 3 }; keyrings[0].blindIndexKeys: { primary: 1 }
 * ```
 */
export async function hierarchyStatus(h: HierarchyInternals, stats: () => HierarchyStats): Promise<HierarchyStatus> {
  const [cmks, keks, counts, tombstones] = await Promise.all([h.keyStore.listCmks(), h.keyStore.listKeks(), h.keyStore.countDeks(), h.keyStore.listTombstones()]);
  const names = [...new Set([...cmks.map((c) => c.keyring), ...keks.map((k) => k.keyring)])].sort();
  const epochs = new Map(
    await Promise.all(
      names.map(async (keyring) => {
        const job = await h.keyStore.getJob(shredJobId(keyring));
        return [keyring, job?.state === 'running' ? job.updatedAt : null] as const;
      }),
    ),
  );
  const indexKeys = new Map(await Promise.all(names.map(async (keyring) => [keyring, await blindIndexCounts(h, keyring)] as const)));
  const policies = new Map(await Promise.all(names.map(async (keyring) => [keyring, await policyStatus(h, keyring)] as const)));
  return {
    root: h.rootKey.description,
    keyrings: names.map((keyring) => ({
      keyring,
      cmks: cmks.filter((c) => c.keyring === keyring).map(({ version, state, hsmLabel, createdAt }) => ({ version, state, hsmLabel, createdAt })),
      keks: keks.filter((k) => k.keyring === keyring).map(({ version, state, cmkVersion, createdAt }) => ({ version, state, cmkVersion, createdAt })),
      deks: dataDekCounts(counts, keyring, indexKeys.get(keyring)!),
      blindIndexKeys: indexKeys.get(keyring)!,
      shreds: shredStatus(
        tombstones.filter((t) => t.keyring === keyring),
        epochs.get(keyring) ?? null,
      ),
      policy: policies.get(keyring)!,
    })),
    stats: stats(),
  };
}
