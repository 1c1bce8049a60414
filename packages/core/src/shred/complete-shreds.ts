import { KeystrataError } from '../errors/keystrata-error.js';
import { AsyncMutex } from '../key-store/async-mutex.js';
import type { KeyStore } from '../key-store/key-store.js';
import { now, type HierarchyInternals } from '../hierarchy/internals.js';
import { LEASE_TTL_MS, withLease } from '../hierarchy/rotation-lease.js';
import { assertCmksGoneInHsm, assertEpochPossible, destroyOldCmks, eraseTombstonedKeys, ensureEpochCmk, ensureEpochKek, moveDeksAndDestroyOldKeks } from './epoch-steps.js';
import { PROCESS_OWNER, runningShredPlan, saveShredPlan, STALE_EPOCH_MS, type ShredEpochPlan } from './shred-job.js';

/**
 * Result of {@link completeShreds} for one keyring.
 *
 * @example
 * ```ts
 * for (const epoch of await hierarchy.completeShreds()) {
 *   if (epoch.ran) console.log(`${epoch.keyring}: ${epoch.durable} shred(s) durable, CMK v${epoch.cmkVersion}, ${epoch.purge}`);
 * }
 * ```
 */
export interface ShredEpochResult {
  readonly keyring: string;
  /** False when nothing was pending (no epoch was needed). */
  readonly ran: boolean;
  /** True when this run finished an epoch an earlier, interrupted run had started. */
  readonly resumed: boolean;
  /** Tombstones this run made durable. */
  readonly durable: number;
  /** The epoch's new CMK and KEK versions (0 when no epoch ran). */
  readonly cmkVersion: number;
  readonly kekVersion: number;
  /** DEKs re-wrapped under the new KEK. */
  readonly rewrapped: number;
  readonly destroyedKeks: readonly number[];
  /** CMK versions destroyed in the HSM. */
  readonly retiredCmks: readonly number[];
  /** What the key store did to purge erased blobs from its own files (WAL checkpoint, VACUUM). */
  readonly purge: string;
}

const idle = (keyring: string, durable = 0): ShredEpochResult => ({
  keyring,
  ran: false,
  resumed: false,
  durable,
  cmkVersion: 0,
  kekVersion: 0,
  rewrapped: 0,
  destroyedKeks: [],
  retiredCmks: [],
  purge: '',
});

/** One epoch at a time per key store and keyring in this process (concurrent destroys queue up). */
const epochLocks = new WeakMap<KeyStore, Map<string, AsyncMutex>>();

function epochLock(keyStore: KeyStore, keyring: string): AsyncMutex {
  let locks = epochLocks.get(keyStore);
  if (locks === undefined) epochLocks.set(keyStore, (locks = new Map()));
  let lock = locks.get(keyring);
  if (lock === undefined) locks.set(keyring, (lock = new AsyncMutex()));
  return lock;
}

/**
 * Makes a keyring's pending shreds durable with one "shred epoch": (1) a new CMK version in the
 * HSM, (2) a new KEK under it, (3) every surviving DEK re-wrapped in process under the new KEK,
 * (4) every old KEK version destroyed, (5) every old CMK version destroyed in the HSM, then the
 * tombstones marked durable and the key store's files purged. Many shreds share one epoch.
 * Resumable: a rerun after a crash finishes the epoch the plan in `keystrata_job` describes.
 *
 * @example
 * ```ts
 * await hierarchy.destroy({ kind: 'segment', segment: 'tenant:gone' }, { durable: 'deferred' });
 * await completeShreds(h, 'default'); // now no old backup, WAL or dead tuple can bring it back
 * ```
 */
export function completeShreds(h: HierarchyInternals, keyring: string): Promise<ShredEpochResult> {
  return epochLock(h.keyStore, keyring).run(async () => {
    if ((await runningShredPlan(h, keyring)) === undefined && !(await h.keyStore.listTombstones(keyring)).some((t) => t.durableAt === null)) return idle(keyring);
    // The whole epoch holds the keyring's lease: no CMK or KEK rotation can interleave with it.
    return withLease(
      h.keyStore,
      `keyring:${keyring}`,
      `run the shred epoch of keyring "${keyring}"`,
      async () => {
        const first = await runEpoch(h, keyring);
        if (!first.resumed) return first;
        // A resumed epoch covers what was destroyed before it started; a fresh one covers the rest.
        const second = await runEpoch(h, keyring);
        return second.ran ? { ...second, resumed: true, durable: first.durable + second.durable } : first;
      },
      { waitMs: LEASE_TTL_MS },
    );
  });
}

/**
 * The instant up to which this epoch may mark tombstones durable: its cutoff, or just before the
 * first tombstone it did not see at its start (a destroy that raced it: its key may have been
 * re-wrapped under the epoch's KEK before that destroy erased it, so a later epoch covers it).
 */
async function durableUpTo(h: HierarchyInternals, keyring: string, cutoff: string, covered: ReadonlySet<string>): Promise<string> {
  const late = (await h.keyStore.listTombstones(keyring))
    .filter((t) => t.durableAt === null && t.destroyedAt <= cutoff && !covered.has(`${t.kind}:${t.id}`))
    .map((t) => t.destroyedAt)
    .sort();
  return late.length === 0 ? cutoff : new Date(Date.parse(late[0]!) - 1).toISOString();
}

async function runEpoch(h: HierarchyInternals, keyring: string): Promise<ShredEpochResult> {
  const running = await runningShredPlan(h, keyring);
  const pending = (await h.keyStore.listTombstones(keyring)).filter((t) => t.durableAt === null);
  if (running === undefined && pending.length === 0) return idle(keyring);
  const cmks = await h.keyStore.listCmks(keyring);
  if (cmks.length === 0) throw new KeystrataError('KEY_NOT_FOUND', `Keyring "${keyring}" has no CMK.`, { details: { keyring } });
  if (cmks.every((c) => c.state === 'destroyed' || c.state === 'retired')) {
    // Every CMK version is gone, the key store says: confirmed in the HSM (by label) before it is believed.
    await assertCmksGoneInHsm(h, keyring, Number.POSITIVE_INFINITY);
    const at = now();
    const durable = await h.keyStore.markTombstonesDurable(keyring, at, at);
    if (running !== undefined) await saveShredPlan(h, keyring, running, 'done');
    await h.audit.record('shred', `keyring:${keyring}`, { keyring, durable, epoch: false });
    return idle(keyring, durable);
  }
  if (running?.owner !== undefined && running.owner !== PROCESS_OWNER && Date.now() - Date.parse(running.updatedAt) < STALE_EPOCH_MS) {
    throw new KeystrataError(
      'ROTATION_IN_PROGRESS',
      `Another process is running the shred epoch of keyring "${keyring}" (last progress ${running.updatedAt}); run \`keystrata shred complete\` again when it is done, or once it has shown no progress for ${STALE_EPOCH_MS / 1000} s if it died.`,
      { details: { keyring } },
    );
  }
  await assertEpochPossible(h, keyring);
  let plan: ShredEpochPlan = running ?? { cutoff: now(), cmkVersion: Math.max(...cmks.map((c) => c.version)) + 1 };
  // Progress is recorded between steps and, throttled, during the re-wrap (one chain: never after `done`).
  let beat = Promise.resolve();
  let lastBeat = 0;
  const progress = (): Promise<void> => {
    lastBeat = Date.now();
    beat = beat.then(() => saveShredPlan(h, keyring, plan, 'running'));
    return beat;
  };
  const heartbeat = (): void => {
    if (Date.now() - lastBeat > STALE_EPOCH_MS / 4) void progress().catch(() => undefined);
  };
  await progress();
  // Step 0: keys tombstoned up to the cutoff are erased (never re-wrapped) before anything moves.
  const covered = await eraseTombstonedKeys(
    h,
    keyring,
    (await h.keyStore.listTombstones(keyring)).filter((t) => t.durableAt === null && t.destroyedAt <= plan.cutoff),
  );
  const cmk = await ensureEpochCmk(h, keyring, plan.cmkVersion);
  await progress();
  const kekVersion = await ensureEpochKek(h, keyring, cmk.version, plan.kekVersion);
  if (plan.kekVersion !== kekVersion) plan = { ...plan, kekVersion };
  await progress();
  const { rewrapped, destroyedKeks } = await moveDeksAndDestroyOldKeks(h, keyring, kekVersion, plan.cutoff, heartbeat);
  await progress();
  const retiredCmks = await destroyOldCmks(h, keyring, cmk.version, plan.cutoff);
  const ownKeys = new Set([...covered.map((t) => `${t.kind}:${t.id}`), ...destroyedKeks.map((v) => `kek:${v}`), ...retiredCmks.map((v) => `cmk:${v}`)]);
  // KEK and CMK tombstones of an earlier, interrupted run of this epoch are its own too.
  for (const t of await h.keyStore.listTombstones(keyring)) if (t.kind !== 'dek' && t.destroyedAt === plan.cutoff) ownKeys.add(`${t.kind}:${t.id}`);
  const durable = await h.keyStore.markTombstonesDurable(keyring, await durableUpTo(h, keyring, plan.cutoff, ownKeys), now());
  const purge = await h.keyStore.purgeErased('full');
  await saveShredPlan(h, keyring, plan, 'done', durable);
  await h.audit.record('shred', `keyring:${keyring}`, {
    keyring,
    cmkVersion: cmk.version,
    kekVersion,
    rewrapped,
    durable,
    resumed: running !== undefined,
    destroyedKeks: destroyedKeks.join(','),
    retiredCmks: retiredCmks.join(','),
    purge,
  });
  return { keyring, ran: true, resumed: running !== undefined, durable, cmkVersion: cmk.version, kekVersion, rewrapped, destroyedKeks, retiredCmks, purge };
}
