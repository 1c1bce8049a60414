import type { KeyStore } from '../key-store/key-store.js';
import type { SecretKey } from '../secret/secret-key.js';

/**
 * Where a CMK version lives in the HSM: found again by label and CKA_ID after a re-initialisation.
 *
 * @example
 * ```ts
 * const record = (await keyStore.listCmks('default')).find((cmk) => cmk.state === 'primary')!;
 * const cmk: CmkReference = { label: record.hsmLabel, id: record.hsmId };
 * await rootKey.hasCmk(cmk); // true while the HSM object exists
 * ```
 */
export interface CmkReference {
  readonly label: string;
  /** CKA_ID as hex. */
  readonly id: string;
}

/**
 * Which audit key MACs the trail: recorded in the trail's first record and checked before every use.
 *
 * @example
 * ```ts
 * const identity: AuditKeyIdentity | undefined = await rootKey.auditKeyIdentity?.();
 * if (identity === undefined) console.warn('no audit key on the token'); // never created by this call
 * ```
 */
export interface AuditKeyIdentity {
  /** CKA_ID as hex (empty for a key made before ids were set). */
  readonly id: string;
  /** A key check value: the first 16 bytes, hex, of the key's HMAC over a fixed string. */
  readonly checkValue: string;
}

/** The fixed string whose HMAC is an audit key's check value. */
export const AUDIT_KEY_CHECK_STRING = 'keystrata-audit-key-check-v1';

/**
 * Operation counters of a root key.
 *
 * @example
 * ```ts
 * const { hsmCalls, reconnects }: RootKeyStats = rootKey.stats;
 * if (reconnects > 0) console.warn(`HSM reconnected ${reconnects} time(s); ${hsmCalls} HSM operations so far`);
 * ```
 */
export interface RootKeyStats {
  /** Logical HSM operations (generate, wrap, unwrap, rewrap, MAC, destroy). */
  readonly hsmCalls: number;
  /** Re-initialisations after a lost session or device. */
  readonly reconnects: number;
  /** Per member of a {@link MemberRootKey} (absent for a single root). */
  readonly members?: readonly RootMemberStats[];
}

/**
 * Health of one member of a root made of several members (docs/hsm-cluster.md).
 *
 * @example
 * ```ts
 * const down = (rootKey.stats.members ?? []).filter((m) => m.state !== 'healthy');
 * // 'unhealthy': probed again in the background; 'refused' (wrong PIN, incompatible module): never used
 * ```
 */
export type RootMemberState = 'healthy' | 'unhealthy' | 'refused';

/**
 * Counters and health of one member of a root made of several members.
 *
 * @example
 * ```ts
 * for (const { name, state, calls, failovers, inFlight, reason } of hierarchy.stats().hsmMembers ?? []) {
 *   console.log(name, state, reason ?? '', `${calls} calls, ${failovers} failovers, ${inFlight} in flight`);
 * }
 * ```
 */
export interface RootMemberStats {
  readonly name: string;
  readonly state: RootMemberState;
  /** Operations this member answered (unwrap, rewrap, generate, audit MAC…). */
  readonly calls: number;
  /** Operations this member failed that were retried on another member. */
  readonly failovers: number;
  readonly inFlight: number;
  /** Error code of the last change to unhealthy or refused (no message: never key material). */
  readonly reason?: string;
}

/**
 * A member changing state, for the audit trail (`member` records).
 *
 * @example
 * ```ts
 * const unsubscribe = rootKey.watchMembers?.((event: RootMemberEvent) => {
 *   console.warn(`member ${event.member}: ${event.from} → ${event.to}`, event.reason ?? ''); // e.g. healthy → unhealthy HSM_UNAVAILABLE
 * });
 * ```
 */
export interface RootMemberEvent {
  readonly member: string;
  readonly from: RootMemberState | 'added' | 'removed';
  readonly to: RootMemberState | 'added' | 'removed';
  readonly reason?: string;
  /** Set (with `from` equal to `to`) when no state changed but something of the member was dropped: `kek-copy`, a copy a CMK rotation dropped because it names a mechanism the member does not offer. */
  readonly dropped?: string;
}

/**
 * The customer-managed root of the hierarchy. CMK material never leaves it: it generates CMK
 * versions, wraps freshly generated KEKs, unwraps KEKs for the in-process cache, re-wraps KEKs from
 * one CMK version to another without exposing them, and MACs the audit trail.
 * Implementation: {@link Pkcs11RootKey}. {@link SoftwareRootKey} exists for unit tests only.
 *
 * @example
 * ```ts
 * class MyHsmRootKey implements RootKey {
 *   readonly description = 'my-hsm partition 1';
 *   readonly stats = { hsmCalls: 0, reconnects: 0 };
 *   async createCmk(label: string, id?: string): Promise<CmkReference> { … } // a non-extractable key in the device
 *   async generateWrappedKek(cmk: CmkReference): Promise<Buffer> { … } // RFC 5649, wrapped inside the device
 *   // … hasCmk, destroyCmk, unwrapKek, rewrapKek, auditMac, close
 * }
 * ```
 */
export interface RootKey {
  /** A non-secret description for status output, e.g. `pkcs11 token "keystrata-dev"`. */
  readonly description: string;
  readonly stats: RootKeyStats;
  /**
   * Generates CMK `label` with CKA_ID `id` (hex; default 16 random bytes). A rotation picks and
   * saves the id first, so the object of a run killed before registering it is found again.
   */
  createCmk(label: string, id?: string): Promise<CmkReference>;
  hasCmk(cmk: CmkReference): Promise<boolean>;
  destroyCmk(cmk: CmkReference): Promise<void>;
  /**
   * Every CMK object with this label, whatever its CKA_ID (a shred epoch finds old versions by label
   * as well as by the key store's id, which a key-store edit could change). Optional for other
   * implementations; a shred epoch refuses to call a shred durable without it.
   */
  findCmks?(label: string): Promise<CmkReference[]>;
  /** Generates an AES-256 KEK inside the root and returns it wrapped by `cmk`: opaque bytes only this kind of root unwraps (docs/format.md). */
  generateWrappedKek(cmk: CmkReference): Promise<Buffer>;
  /** Refuses, before any HSM call, a blob its format does not explain (`CIPHERTEXT_TAMPERED`): the hierarchy treats blobs as opaque. */
  unwrapKek(cmk: CmkReference, wrapped: Buffer): Promise<SecretKey>;
  /** Unwraps under `from` and wraps under `to` inside the root; the KEK never leaves it. */
  rewrapKek(from: CmkReference, to: CmkReference, wrapped: Buffer): Promise<Buffer>;
  /**
   * HMAC-SHA256 under the root's audit key: with `key` (as a trail records it), the key with that
   * CKA_ID whose check value matches; otherwise the audit key (of several, the one with the
   * smallest id). `AUDIT_KEY_MISMATCH` when there is no such key: it is never created here.
   */
  auditMac(data: Buffer, key?: AuditKeyIdentity): Promise<Buffer>;
  /**
   * The identity of the audit key `auditMac` would use, or undefined when there is none. Never
   * creates one. Optional for other implementations: without it and {@link createAuditKey}, the
   * trail records no audit key identity (as before) and `auditMac` must find its own key.
   */
  auditKeyIdentity?(keyId?: string): Promise<AuditKeyIdentity | undefined>;
  /**
   * Creates the audit key (explicitly, when a trail starts); refuses when one exists. A root of
   * independent members keeps the key's wrapped copies in `keyStore` (docs/hsm-cluster.md).
   */
  createAuditKey?(keyStore?: KeyStore): Promise<AuditKeyIdentity>;
  close(): Promise<void>;
  /**
   * Wraps KEK bytes held in process under `cmk`, in the root's wrapped-KEK format (an opaque
   * Buffer, as {@link generateWrappedKek} returns): to copy KEKs to another root. Optional.
   */
  wrapKekBytes?(cmk: CmkReference, kek: SecretKey): Promise<Buffer>;
  /**
   * Creates the audit key from material in process memory, as a token object with CKA_ID `id`
   * (hex): how every independent member gets the same audit key. Optional; refuses when one exists.
   */
  importAuditKey?(id: string, material: SecretKey): Promise<AuditKeyIdentity>;
  /** Calls `listener` on every member change of state (a root of several members); returns the unsubscribe. */
  watchMembers?(listener: (event: RootMemberEvent) => void): () => void;
}
