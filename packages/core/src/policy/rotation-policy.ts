import { KeystrataError } from '../errors/keystrata-error.js';
import type { PolicyRecord } from '../key-store/records.js';

/**
 * Encryptions per DEK when a keyring's policy sets no limit: 2^30, well below the 2^32 bound
 * NIST SP 800-38D puts on AES-GCM with random 96-bit IVs under one key.
 *
 * @example
 * ```ts
 * import { DEFAULT_DEK_USAGE_LIMIT } from '@keystrata/core';
 * DEFAULT_DEK_USAGE_LIMIT === 2 ** 30; // true
 * ```
 */
export const DEFAULT_DEK_USAGE_LIMIT = 2 ** 30;

/** Longest validity period a policy takes: ten years (fits a 32-bit INTEGER column in seconds). */
const MAX_VALIDITY_SECONDS = 3650 * 86_400;

/** Most uses one process reserves for a DEK at a time. */
const MAX_USAGE_BLOCK = 2 ** 16;

/**
 * A change to a keyring's rotation policy: a number sets a rule, `null` removes it, an absent field
 * keeps what is stored.
 *
 * @example
 * ```ts
 * const change: RotationPolicyChange = { keyring: 'default', dekValiditySeconds: 30 * 86_400, kekValiditySeconds: null }; // null removes the KEK rule
 * await hierarchy.policies.set(change); // dekUsageLimit absent: the stored limit is kept
 * ```
 */
export interface RotationPolicyChange {
  readonly keyring?: string;
  /** Seconds after which a KEK version is replaced, lazily (as `rotateKek`). */
  readonly kekValiditySeconds?: number | null;
  /** Seconds after which a segment's DEK is replaced and a re-encryption job queued. */
  readonly dekValiditySeconds?: number | null;
  /** Encryptions per DEK (1 … 2^30, default 2^30) before the segment's next write uses a fresh DEK. */
  readonly dekUsageLimit?: number | null;
}

/**
 * A keyring's rotation policy as it applies: the stored rules and the usage limit in force.
 *
 * @example
 * ```ts
 * const policy: RotationPolicy = await hierarchy.policies.get('default');
 * if (policy.usageLimitIsDefault) console.log(`no limit stored: ${policy.dekUsageLimit} encryptions per DEK`);
 * policy.kekValiditySeconds; // null: no KEK rule
 * ```
 */
export interface RotationPolicy {
  readonly keyring: string;
  readonly kekValiditySeconds: number | null;
  readonly dekValiditySeconds: number | null;
  /** The limit in force (the stored one, or {@link DEFAULT_DEK_USAGE_LIMIT}). */
  readonly dekUsageLimit: number;
  /** Whether `dekUsageLimit` is the default (no limit stored). */
  readonly usageLimitIsDefault: boolean;
  /** Uses one process reserves in the key store at a time for a DEK. */
  readonly usageBlock: number;
  /** When the stored policy last changed; null when the keyring has none. */
  readonly updatedAt: string | null;
}

const POLICY_KEYS = new Set(['keyring', 'kekValiditySeconds', 'dekValiditySeconds', 'dekUsageLimit']);

function checkInteger(name: string, value: unknown, max: number): number | null | undefined {
  if (value === undefined || value === null) return value;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new KeystrataError('CONFIG_INVALID', `${name} must be a whole number from 1 to ${max}, or null to remove the rule.`, { details: { option: name } });
  }
  return value;
}

/**
 * Validates a policy change once and merges it over the stored record.
 *
 * @example
 * ```ts
 * const record = mergePolicy('default', undefined, { dekUsageLimit: 1_000_000 }, new Date().toISOString());
 * ```
 */
export function mergePolicy(keyring: string, stored: PolicyRecord | undefined, change: RotationPolicyChange, at: string): PolicyRecord {
  if (typeof change !== 'object' || change === null) throw new KeystrataError('CONFIG_INVALID', 'A policy change must be an object.');
  const unknown = Object.keys(change).find((key) => !POLICY_KEYS.has(key));
  if (unknown !== undefined) throw new KeystrataError('CONFIG_INVALID', `Unknown policy option "${unknown}"; use kekValiditySeconds, dekValiditySeconds or dekUsageLimit.`);
  const kek = checkInteger('kekValiditySeconds', change.kekValiditySeconds, MAX_VALIDITY_SECONDS);
  const dek = checkInteger('dekValiditySeconds', change.dekValiditySeconds, MAX_VALIDITY_SECONDS);
  const limit = checkInteger('dekUsageLimit', change.dekUsageLimit, DEFAULT_DEK_USAGE_LIMIT);
  return {
    keyring,
    kekValiditySeconds: kek === undefined ? (stored?.kekValiditySeconds ?? null) : kek,
    dekValiditySeconds: dek === undefined ? (stored?.dekValiditySeconds ?? null) : dek,
    dekUsageLimit: limit === undefined ? (stored?.dekUsageLimit ?? null) : limit,
    updatedAt: at,
  };
}

/**
 * Uses reserved per DEK per process at a time: a sixteenth of the limit, at most 2^16, at least 1,
 * so a handful of processes share a low limit before it is spent on reservations alone.
 *
 * @example
 * ```ts
 * usageBlock(2 ** 30); // 65536
 * usageBlock(1600); // 100
 * ```
 */
function usageBlock(limit: number): number {
  return Math.max(1, Math.min(MAX_USAGE_BLOCK, Math.floor(limit / 16)));
}

/**
 * The policy in force for a keyring from its stored record (or none).
 *
 * @example
 * ```ts
 * effectivePolicy('default', undefined).dekUsageLimit; // 2 ** 30
 * ```
 */
export function effectivePolicy(keyring: string, record: PolicyRecord | undefined): RotationPolicy {
  const limit = record?.dekUsageLimit ?? DEFAULT_DEK_USAGE_LIMIT;
  return {
    keyring,
    kekValiditySeconds: record?.kekValiditySeconds ?? null,
    dekValiditySeconds: record?.dekValiditySeconds ?? null,
    dekUsageLimit: limit,
    usageLimitIsDefault: record?.dekUsageLimit == null,
    usageBlock: usageBlock(limit),
    updatedAt: record?.updatedAt ?? null,
  };
}
