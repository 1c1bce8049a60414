import { RESERVED_SEGMENT_PREFIX } from '../hierarchy/context-checks.js';
import type { HierarchyInternals } from '../hierarchy/internals.js';
import { effectivePolicy, type RotationPolicy } from './rotation-policy.js';

/**
 * A keyring's rotation policy in `keystrata status`: the rules, when rotations are next due, usage counts.
 *
 * @example
 * ```ts
 * const status: PolicyStatus | undefined = (await hierarchy.status()).keyrings[0]?.policy;
 * console.log(`next DEK rotation: ${status?.nextDekRotation ?? 'no rule'}, ${status?.deksPastValidity ?? 0} DEK(s) past due`);
 * if (status?.mostUsed) console.log(`${status.mostUsed.segment}: ${status.mostUsed.uses} of ${status.policy.dekUsageLimit} uses reserved`);
 * ```
 */
export interface PolicyStatus {
  readonly policy: RotationPolicy;
  /** When the primary KEK's validity period ends (null without the rule). */
  readonly nextKekRotation: string | null;
  /** When the oldest primary DEK's validity period ends (null without the rule or DEKs). */
  readonly nextDekRotation: string | null;
  /** Primary DEKs already past their validity period (rotated at their segment's next write or `policy enforce`). */
  readonly deksPastValidity: number;
  /** The primary DEK with the most reserved uses, if any. */
  readonly mostUsed: { readonly segment: string; readonly dekId: string; readonly uses: number } | null;
  /** Uses reserved in the key store over the primary DEKs (an upper bound of the encryptions made with them). */
  readonly usesReserved: number;
  /** Segments whose queued or interrupted re-encryption (`dek-rotation` job) is unfinished. */
  readonly pendingReencryptions: readonly string[];
}

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * The policy status of one keyring (one pass over its primary DEKs).
 *
 * @example
 * ```ts
 * const { nextKekRotation, mostUsed } = await policyStatus(h, 'default');
 * ```
 */
export async function policyStatus(h: HierarchyInternals, keyring: string): Promise<PolicyStatus> {
  const policy = effectivePolicy(keyring, await h.keyStore.getPolicy(keyring));
  const primaryKek = (await h.keyStore.listKeks(keyring)).filter((k) => k.state === 'primary').at(-1);
  const deks = (await h.keyStore.listDeks({ keyring, states: ['primary'], limit: 100_000 })).filter((d) => !d.segment.startsWith(RESERVED_SEGMENT_PREFIX));
  const uses = deks.length === 0 ? new Map<string, number>() : await h.keyStore.loadDekUses(deks.map((d) => d.id));
  let mostUsed: PolicyStatus['mostUsed'] = null;
  let usesReserved = 0;
  for (const dek of deks) {
    const n = uses.get(dek.id) ?? 0;
    usesReserved += n;
    if (n > (mostUsed?.uses ?? 0)) mostUsed = { segment: dek.segment, dekId: dek.id, uses: n };
  }
  const validityMs = policy.dekValiditySeconds === null ? null : policy.dekValiditySeconds * 1000;
  const oldest = deks.length === 0 ? undefined : deks.reduce((min, d) => Math.min(min, Date.parse(d.createdAt)), Infinity);
  const prefix = `dek-rotation:${keyring}:`;
  const pending = (await h.keyStore.listJobs('dek-rotation')).filter((j) => j.state === 'running' && j.id.startsWith(prefix));
  return {
    policy,
    nextKekRotation: policy.kekValiditySeconds === null || primaryKek === undefined ? null : iso(Date.parse(primaryKek.createdAt) + policy.kekValiditySeconds * 1000),
    nextDekRotation: validityMs === null || oldest === undefined ? null : iso(oldest + validityMs),
    deksPastValidity: validityMs === null ? 0 : deks.filter((d) => Date.parse(d.createdAt) + validityMs <= Date.now()).length,
    mostUsed,
    usesReserved,
    pendingReencryptions: pending.map((j) => j.id.slice(prefix.length)),
  };
}
