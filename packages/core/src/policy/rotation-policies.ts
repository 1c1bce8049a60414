import { KeystrataError } from '../errors/keystrata-error.js';
import { checkKeyring } from '../hierarchy/context-checks.js';
import { now, type HierarchyInternals } from '../hierarchy/internals.js';
import type { UsableDek } from '../hierarchy/key-resolver.js';
import { rotateDueKek, rotateSegmentDek } from './automatic-rotation.js';
import { enforcePolicies, type EnforcementResult } from './enforce-policies.js';
import { effectivePolicy, mergePolicy, type RotationPolicy, type RotationPolicyChange } from './rotation-policy.js';
import { DekUsageCounter, type UsageLimits, type UsageStats } from './usage-counter.js';

/** A keyring's policy as this process last read it. */
interface CachedPolicy {
  readonly policy: RotationPolicy;
  readonly limits: UsageLimits;
  /** `dekValiditySeconds` in ms, Infinity without the rule. */
  readonly dekValidityMs: number;
  readonly checkUntil: number;
}

/** Resolves the current DEK of a segment again (after a rotation). */
export type ReselectDek = (segment: string) => Promise<UsableDek>;

/** Most rotations one segment of one batch goes through before the write gives up. */
const MAX_ROTATIONS_PER_WRITE = 5;

const isBusy = (error: unknown): boolean => KeystrataError.isInstance(error, 'ROTATION_IN_PROGRESS');

/**
 * Rotation policies of a hierarchy's keyrings (docs/rotation-policies.md): KEK and DEK validity
 * periods and the DEK usage limit, stored per keyring in the key store, read by every process at
 * most every `cache.maxAgeMs` (60 s at most), and enforced by whichever process notices a due
 * rotation first, under the rotation lease, exactly once across the fleet.
 *
 * @example
 * ```ts
 * await hierarchy.policies.set({ keyring: 'default', dekUsageLimit: 1_000_000, kekValiditySeconds: 90 * 86_400 });
 * const policy = await hierarchy.policies.get('default');
 * await hierarchy.policies.enforce('default'); // what `keystrata policy enforce` runs
 * ```
 */
export class RotationPolicies {
  readonly #h: HierarchyInternals;
  readonly #usage: DekUsageCounter;
  readonly #cached = new Map<string, CachedPolicy>();
  readonly #loading = new Map<string, Promise<CachedPolicy>>();
  readonly #refreshMs: number;

  constructor(h: HierarchyInternals, refreshMs: number) {
    this.#h = h;
    this.#usage = new DekUsageCounter(h.keyStore);
    this.#refreshMs = Math.max(0, Math.min(refreshMs, 60_000));
  }

  /** Encryptions counted and uses reserved by this process. */
  get usageStats(): UsageStats {
    return this.#usage.stats;
  }

  /**
   * Resolves once no block reservation is in flight (one may be fetched in the background while
   * values are sealed): {@link usageStats} then matches what the key store counted.
   *
   * @example
   * ```ts
   * await hierarchy.policies.settled();
   * const { reserved } = hierarchy.policies.usageStats;
   * ```
   */
  settled(): Promise<void> {
    return this.#usage.settled();
  }

  /** The policy in force for a keyring (the default usage limit where none is stored). */
  async get(keyring = this.#h.defaultKeyring): Promise<RotationPolicy> {
    const name = checkKeyring(keyring);
    return effectivePolicy(name, await this.#h.keyStore.getPolicy(name));
  }

  /** Validates and stores a policy change (absent fields keep their rule, `null` removes one); audited as `policy`. */
  async set(change: RotationPolicyChange): Promise<RotationPolicy> {
    const keyring = checkKeyring(change?.keyring ?? this.#h.defaultKeyring);
    const record = mergePolicy(keyring, await this.#h.keyStore.getPolicy(keyring), change, now());
    await this.#h.keyStore.putPolicy(record);
    this.#cached.delete(keyring);
    const rule = (value: number | null): number | string => value ?? 'none';
    await this.#h.audit.record('policy', `keyring:${keyring}`, {
      kekValiditySeconds: rule(record.kekValiditySeconds),
      dekValiditySeconds: rule(record.dekValiditySeconds),
      dekUsageLimit: rule(record.dekUsageLimit),
    });
    return effectivePolicy(keyring, record);
  }

  /**
   * Performs every rotation that is due in the keyring (KEK validity, DEKs past their validity or
   * usage limit), each exactly once across the fleet; DEK validity rotations queue re-encryption jobs.
   */
  enforce(keyring = this.#h.defaultKeyring): Promise<EnforcementResult> {
    return enforcePolicies(this.#h, checkKeyring(keyring));
  }

  /** Reads the keyring's policy again when this process's copy is stale (undefined when it is fresh). */
  refresh(keyring: string): Promise<unknown> | undefined {
    const cached = this.#cached.get(keyring);
    return cached !== undefined && cached.checkUntil > Date.now() ? undefined : this.#policy(keyring);
  }

  /**
   * The encryption hook: takes `uses` (values per segment) from each segment's DEK by an integer
   * decrement (0 uses: `prepareSegments`, which reserves half a block ahead of a write transaction); only where a block runs out, the policy is stale or a DEK is due does it go async
   * (reserve, or rotate and re-select the segment's DEK in `keys`). Fails closed: a DEK at its
   * limit is never used past it.
   */
  admit(keyring: string, keys: Map<string, UsableDek>, uses: ReadonlyMap<string, number>, reselect: ReselectDek): Promise<void> | undefined {
    const cached = this.#cached.get(keyring);
    const at = Date.now();
    if (cached === undefined || cached.checkUntil <= at) return this.#admitSlowly(keyring, keys, [...uses.keys()], uses, reselect);
    let pending: string[] | undefined;
    for (const [segment, n] of uses) {
      const dek = keys.get(segment)!;
      const expired = cached.dekValidityMs !== Infinity && Date.parse(dek.meta.createdAt) + cached.dekValidityMs <= at;
      if (expired || !(n === 0 ? this.#usage.prepared(dek.meta.id, cached.limits) : this.#usage.take(dek.meta.id, n, cached.limits))) (pending ??= []).push(segment);
    }
    return pending === undefined ? undefined : this.#admitSlowly(keyring, keys, pending, uses, reselect);
  }

  async #admitSlowly(keyring: string, keys: Map<string, UsableDek>, segments: readonly string[], uses: ReadonlyMap<string, number>, reselect: ReselectDek): Promise<void> {
    const cached = await this.#policy(keyring);
    for (const segment of segments) {
      const n = uses.get(segment)!;
      if (n > cached.limits.limit) {
        throw new KeystrataError('CONFIG_INVALID', `A batch of ${n} values for segment "${segment}" is more than keyring "${keyring}"'s DEK usage limit (${cached.limits.limit}).`, {
          hint: 'Split the batch, or raise the limit with `keystrata policy set --dek-usage-limit`.',
          details: { keyring, limit: cached.limits.limit },
        });
      }
      let dek = keys.get(segment)!;
      let checkValidity = cached.dekValidityMs !== Infinity;
      for (let rotations = 0; ; rotations++) {
        const expired = checkValidity && Date.parse(dek.meta.createdAt) + cached.dekValidityMs <= Date.now();
        if (!expired && (await this.#ready(dek.meta.id, n, cached.limits))) break;
        if (rotations === MAX_ROTATIONS_PER_WRITE) {
          throw new KeystrataError('ROTATION_IN_PROGRESS', `Segment "${segment}" needed more than ${MAX_ROTATIONS_PER_WRITE} DEK rotations for one write; nothing was encrypted.`, {
            details: { keyring },
          });
        }
        try {
          await rotateSegmentDek(this.#h, keyring, segment, dek.meta.id, expired ? 'dek-validity' : 'usage-limit');
        } catch (error) {
          // A validity rotation another process is busy with may wait; a spent DEK may not be used.
          if (!expired || !isBusy(error)) throw error;
          checkValidity = false;
          continue;
        }
        this.#usage.forget(dek.meta.id);
        dek = await reselect(segment);
        keys.set(segment, dek);
      }
    }
  }

  /** Takes `n` uses (reserving first where needed); `n` 0 (prepare) tops this process's uses up to half a block. */
  async #ready(dekId: string, n: number, limits: UsageLimits): Promise<boolean> {
    if (n === 0) return this.#usage.prepared(dekId, limits) || (await this.#usage.refill(dekId, Math.ceil(limits.block / 2), limits)) || this.#usage.prepared(dekId, limits);
    return this.#usage.take(dekId, n, limits) || ((await this.#usage.refill(dekId, n, limits)) && this.#usage.take(dekId, n, limits));
  }

  /** The keyring's policy, read again at most every refresh interval; a due KEK rotation is done then (lazily). */
  #policy(keyring: string): Promise<CachedPolicy> {
    const cached = this.#cached.get(keyring);
    if (cached !== undefined && cached.checkUntil > Date.now()) return Promise.resolve(cached);
    // Concurrent batches of one keyring share one read.
    let loading = this.#loading.get(keyring);
    if (loading === undefined) {
      loading = this.#load(keyring).finally(() => this.#loading.delete(keyring));
      this.#loading.set(keyring, loading);
    }
    return loading;
  }

  async #load(keyring: string): Promise<CachedPolicy> {
    const policy = effectivePolicy(keyring, await this.#h.keyStore.getPolicy(keyring));
    const fresh: CachedPolicy = {
      policy,
      limits: { limit: policy.dekUsageLimit, block: policy.usageBlock },
      dekValidityMs: policy.dekValiditySeconds === null ? Infinity : policy.dekValiditySeconds * 1000,
      checkUntil: Date.now() + this.#refreshMs,
    };
    this.#cached.set(keyring, fresh);
    if (policy.kekValiditySeconds !== null) {
      // Lazily, as `rotateKek`: new DEKs wrap under the new version. A busy lease means another
      // process is doing it; any other failure is retried at the next refresh (`policy enforce` reports it).
      await rotateDueKek(this.#h, keyring, policy.kekValiditySeconds).catch((error: unknown) => {
        if (!KeystrataError.isInstance(error)) throw error;
      });
    }
    return fresh;
  }
}
