import type { JobRecord } from '../key-store/records.js';
import { now, type HierarchyInternals } from '../hierarchy/internals.js';
import { rotateKek } from '../hierarchy/provisioning.js';
import { withLease } from '../hierarchy/rotation-lease.js';

/** Why a rotation happened on its own (recorded in its audit record). */
export type RotationReason = 'usage-limit' | 'dek-validity' | 'kek-validity';

/** How long an automatic rotation waits for a busy segment or keyring lease. */
export const AUTOMATIC_LEASE_WAIT_MS = 10_000;

const dekJobId = (keyring: string, segment: string): string => `dek-rotation:${keyring}:${segment}`;

/**
 * Replaces the segment's DEK `staleId` by a new version (the segment's primary from now on) under
 * the segment's rotation lease, exactly once across the fleet: whoever takes the lease first
 * rotates; the others find the segment's newest DEK is no longer `staleId` and do nothing. Audited
 * as `rotate` like `rotateDek`, with the reason. `dek-validity` also queues the segment's
 * re-encryption as a `dek-rotation` job row that `rotateDek` resumes (docs/rotation-policies.md).
 * Returns the new DEK id, or undefined when another process (or a manual rotation) did it.
 *
 * @example
 * ```ts
 * await rotateSegmentDek(h, 'default', 'tenant:acme', exhaustedId, 'usage-limit');
 * ```
 */
export function rotateSegmentDek(h: HierarchyInternals, keyring: string, segment: string, staleId: string, reason: 'usage-limit' | 'dek-validity'): Promise<string | undefined> {
  const what = `rotate the DEK of segment "${segment}" (${reason})`;
  return withLease(
    h.keyStore,
    `segment:${keyring}:${segment}`,
    what,
    async (lease) => {
      const [latest] = await h.keyStore.loadLatestDekChains(keyring, [segment]);
      if (latest === undefined || latest.dek.id !== staleId) return undefined;
      lease.assertHeld();
      const version = latest.dek.version + 1;
      const [created] = await h.resolver.createDeks(keyring, [segment], version);
      const dekId = created!.dek.id;
      for (const dek of await h.keyStore.listDeks({ keyring, segment, states: ['primary'], limit: 1000 })) {
        if (dek.id !== dekId) await h.keyStore.updateDek(dek.id, { state: 'enabled', at: now() });
      }
      h.resolver.evict({ keyring, segment });
      await h.audit.record('rotate', `segment:${keyring}:${segment}`, { dekId, version, reason, automatic: true, previous: staleId });
      await queueReencryption(h, keyring, segment, { dekId, version, reason });
      return dekId;
    },
    { waitMs: AUTOMATIC_LEASE_WAIT_MS },
  );
}

/**
 * Points the segment's re-encryption job at the new DEK: a `dek-rotation` job already pending is
 * re-targeted (it would otherwise re-encrypt onto the replaced DEK); after a DEK validity period a
 * new one is queued. A usage-limit rotation with no job pending queues nothing: old values stay
 * readable under their DEK, only new writes needed a fresh one.
 */
async function queueReencryption(h: HierarchyInternals, keyring: string, segment: string, next: { dekId: string; version: number; reason: string }): Promise<void> {
  const pending = await h.keyStore.getJob(dekJobId(keyring, segment));
  if (pending?.state !== 'running' && next.reason !== 'dek-validity') return;
  const data = { version: next.version, dekId: next.dekId, switchedAt: Date.now(), reencrypted: 0, reason: next.reason, queuedAt: now() };
  const job: JobRecord = { id: dekJobId(keyring, segment), kind: 'dek-rotation', state: 'running', cursor: null, processed: 0, data: JSON.stringify(data), updatedAt: now() };
  await h.keyStore.putJob(job);
}

/**
 * Rotates the keyring's KEK when its primary version is older than `validitySeconds`, exactly once
 * across the fleet: under the keyring lease the primary KEK is read again, and only a still-expired
 * one is rotated (`rotateKek`, audited with reason `kek-validity`). Returns the new version, or
 * undefined when nothing was due any more.
 *
 * @example
 * ```ts
 * await rotateDueKek(h, 'default', 90 * 86_400);
 * ```
 */
export async function rotateDueKek(h: HierarchyInternals, keyring: string, validitySeconds: number, waitMs = 0): Promise<number | undefined> {
  const expired = async (): Promise<boolean> => {
    const primary = (await h.keyStore.listKeks(keyring)).filter((k) => k.state === 'primary').at(-1);
    return primary !== undefined && Date.parse(primary.createdAt) + validitySeconds * 1000 <= Date.now();
  };
  // A read first: the lease (a write) is taken only when a rotation looks due.
  if (!(await expired())) return undefined;
  return withLease(
    h.keyStore,
    `keyring:${keyring}`,
    `rotate the KEK of keyring "${keyring}" (kek-validity)`,
    async () => {
      if (!(await expired())) return undefined;
      return (await rotateKek(h, keyring, undefined, 'kek-validity')).version;
    },
    { waitMs },
  );
}
