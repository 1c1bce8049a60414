import type { SecretKey } from '../secret/secret-key.js';

/** Where a CMK version lives in the HSM: found again by label and CKA_ID after a re-initialisation. */
export interface CmkReference {
  readonly label: string;
  /** CKA_ID as hex. */
  readonly id: string;
}

/** Operation counters of a root key. */
export interface RootKeyStats {
  /** Logical HSM operations (generate, wrap, unwrap, rewrap, MAC, destroy). */
  readonly hsmCalls: number;
  /** Re-initialisations after a lost session or device. */
  readonly reconnects: number;
}

/**
 * The customer-managed root of the hierarchy. CMK material never leaves it: it generates CMK
 * versions, wraps freshly generated KEKs, unwraps KEKs for the in-process cache, re-wraps KEKs from
 * one CMK version to another without exposing them, and MACs the audit trail.
 * Implementation: {@link Pkcs11RootKey}. {@link SoftwareRootKey} exists for unit tests only.
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
  /** Generates an AES-256 KEK inside the root and returns it wrapped by `cmk` (RFC 5649). */
  generateWrappedKek(cmk: CmkReference): Promise<Buffer>;
  unwrapKek(cmk: CmkReference, wrapped: Buffer): Promise<SecretKey>;
  /** Unwraps under `from` and wraps under `to` inside the root; the KEK never leaves it. */
  rewrapKek(from: CmkReference, to: CmkReference, wrapped: Buffer): Promise<Buffer>;
  /** HMAC-SHA256 under the root's audit key (created on first use). */
  auditMac(data: Buffer): Promise<Buffer>;
  close(): Promise<void>;
}
