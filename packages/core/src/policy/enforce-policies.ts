import { KeystrataError } from '../errors/keystrata-error.js';
import { RESERVED_SEGMENT_PREFIX } from '../hierarchy/context-checks.js';
import type { HierarchyInternals } from '../hierarchy/internals.js';
import type { DekRecord } from '../key-store/records.js';
import { AUTOMATIC_LEASE_WAIT_MS, rotateDueKek, rotateSegmentDek, type RotationReason } from './automatic-rotation.js';
import { effectivePolicy } from './rotation-policy.js';

/**
 * What {@link enforcePolicies} did in one keyring.
 *
 * @example
 * ```ts
 * const { kekRotated, deksRotated, pendingReencryptions }: EnforcementResult = await hierarchy.policies.enforce('default');
 * if (kekRotated !== null) console.log(`KEK v${kekRotated}`);
 * for (const { segment, reason } of deksRotated) console.log(`segment ${segment}: new DEK (${reason})`); // 'usage-limit' | 'dek-validity'
 * pendingReencryptions; // segments to re-encrypt with rotateDek or the workers
 * ```
 */
export interface EnforcementResult {
  readonly keyring: string;
  /** The new KEK version when the KEK validity period had passed, else null. */
  readonly kekRotated: number | null;
  /** DEKs replaced here (another process may have done some of the due ones: those are not listed). */
  readonly deksRotated: ReadonlyArray<{ readonly segment: string; readonly dekId: string; readonly reason: RotationReason }>;
  /** Segments whose re-encryption job is queued or unfinished (`rotateDek` on them resumes it). */
  readonly pendingReencryptions: readonly string[];
}

const PAGE = 500;

/** Why a primary DEK is due for rotation, if it is. */
function dueReason(dek: DekRecord, uses: number, limit: number, dekValidityMs: number, at: number): 'usage-limit' | 'dek-validity' | undefined {
  if (Date.parse(dek.createdAt) + dekValidityMs <= at) return 'dek-validity';
  return uses >= limit ? 'usage-limit' : undefined;
}

/**
 * Performs every due rotation of a keyring once: the KEK when its primary version passed its
 * validity period, then each segment's primary DEK past its validity (new DEK, re-encryption job
 * queued) or at its usage limit (new DEK). Each under the rotation lease, so running it on every
 * instance (or a cron job, or a worker) at once rotates each key exactly once.
 *
 * @example
 * ```ts
 * const result = await enforcePolicies(h, 'default');
 * result.pendingReencryptions; // segments for `rotateDek` (or the workers) to re-encrypt
 * ```
 */
export async function enforcePolicies(h: HierarchyInternals, keyring: string): Promise<EnforcementResult> {
  const policy = effectivePolicy(keyring, await h.keyStore.getPolicy(keyring));
  const kekRotated = policy.kekValiditySeconds === null ? undefined : await rotateDueKek(h, keyring, policy.kekValiditySeconds, AUTOMATIC_LEASE_WAIT_MS).catch(ignoreBusy);
  const dekValidityMs = policy.dekValiditySeconds === null ? Infinity : policy.dekValiditySeconds * 1000;
  const deksRotated: Array<{ segment: string; dekId: string; reason: RotationReason }> = [];
  for (let afterId: string | undefined; ; ) {
    const page = await h.keyStore.listDeks({ keyring, states: ['primary'], limit: PAGE, ...(afterId === undefined ? {} : { afterId }) });
    const data = page.filter((dek) => !dek.segment.startsWith(RESERVED_SEGMENT_PREFIX));
    const uses = data.length === 0 ? new Map<string, number>() : await h.keyStore.loadDekUses(data.map((dek) => dek.id));
    const at = Date.now();
    for (const dek of data) {
      const reason = dueReason(dek, uses.get(dek.id) ?? 0, policy.dekUsageLimit, dekValidityMs, at);
      if (reason === undefined) continue;
      const dekId = await rotateSegmentDek(h, keyring, dek.segment, dek.id, reason).catch(ignoreBusy);
      if (dekId !== undefined) deksRotated.push({ segment: dek.segment, dekId, reason });
    }
    if (page.length < PAGE) break;
    afterId = page.at(-1)!.id;
  }
  const prefix = `dek-rotation:${keyring}:`;
  const pendingReencryptions = (await h.keyStore.listJobs('dek-rotation')).filter((job) => job.state === 'running' && job.id.startsWith(prefix)).map((job) => job.id.slice(prefix.length));
  return { keyring, kekRotated: kekRotated ?? null, deksRotated, pendingReencryptions };
}

/** A busy lease: another process is doing that rotation now. */
function ignoreBusy(error: unknown): undefined {
  if (KeystrataError.isInstance(error, 'ROTATION_IN_PROGRESS')) return undefined;
  throw error;
}
