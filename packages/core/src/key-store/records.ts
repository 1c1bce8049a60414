/**
 * Key states, after Google Tink: `primary` (used for new wrapping/encryption), `enabled` (decrypts),
 * `disabled` (reversibly refused), `destroyed` (material erased; irreversible), and for CMK versions
 * `retired` (HSM object removed after nothing referenced it).
 */
export type KeyState = 'primary' | 'enabled' | 'disabled' | 'destroyed' | 'retired';

/** One version of a customer-managed key: an HSM object found by label and id. */
export interface CmkRecord {
  readonly keyring: string;
  readonly version: number;
  readonly hsmLabel: string;
  /** CKA_ID, hex. */
  readonly hsmId: string;
  readonly state: KeyState;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** One version of a keyring's KEK, wrapped by a CMK version (RFC 5649, inside the HSM). */
export interface KekRecord {
  readonly keyring: string;
  readonly version: number;
  readonly cmkVersion: number;
  /** base64; empty once destroyed. */
  readonly wrapped: string;
  readonly state: KeyState;
  readonly createdAt: string;
  readonly updatedAt: string;
  /**
   * `b1.` + HMAC-SHA256 binding the KEK to its keyring and version (docs/format.md), checked on
   * every unwrap; '' or absent for a legacy KEK created before bindings (`keystrata rewrap` adds it).
   */
  readonly binding?: string;
}

/** A data-encryption key for one segment, wrapped by a KEK version (RFC 5649, in process). */
export interface DekRecord {
  /** 32 hex characters; appears in every envelope the DEK sealed. */
  readonly id: string;
  readonly keyring: string;
  readonly segment: string;
  readonly version: number;
  readonly kekVersion: number;
  /** `k2.` + base64 (bound to its identity, docs/format.md), or legacy RFC 5649 base64; empty once destroyed. */
  readonly wrapped: string;
  readonly state: KeyState;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** A DEK with what it takes to unwrap it, as one batched key-store query returns it. */
export interface DekChain {
  readonly dek: DekRecord;
  readonly kek: KekRecord | undefined;
  readonly cmk: CmkRecord | undefined;
}

/** One audit-trail record. `details` holds identifiers only, never key bytes or plaintext. */
export interface AuditRecord {
  readonly seq: number;
  readonly at: string;
  readonly event: AuditEvent;
  readonly subject: string;
  readonly actor: string;
  readonly details: string;
  readonly prevMac: string;
  readonly mac: string;
}

/** Lifecycle events recorded in the audit trail. */
export type AuditEvent = 'generate' | 'rotate' | 'rewrap' | 'disable' | 'enable' | 'destroy' | 'retire' | 'backup' | 'restore' | 'unwrap-failed' | 'reencrypt' | 'shred' | 'audit-key' | 'member';

/** Progress of a resumable job (DEK re-encryption). */
export interface JobRecord {
  readonly id: string;
  readonly kind: string;
  readonly state: 'running' | 'done';
  readonly cursor: string | null;
  readonly processed: number;
  readonly data: string;
  readonly updatedAt: string;
}

/**
 * A destroyed key, remembered after its material is gone: restores never bring it back, and
 * `status` tells whether its shred is durable (its old wrapped blobs end at a CMK version destroyed
 * in the HSM) and since when. `id` is the DEK id, or the KEK/CMK version as a decimal string.
 */
export interface TombstoneRecord {
  readonly kind: 'cmk' | 'kek' | 'dek';
  readonly id: string;
  readonly keyring: string;
  /** The DEK's segment; `''` for KEK and CMK versions. */
  readonly segment: string;
  readonly destroyedAt: string;
  /** When a shred epoch (or the CMK's own destruction in the HSM) made it durable; null while pending. */
  readonly durableAt: string | null;
}

/**
 * A lease in `keystrata_lease`: who may run a rotation of a keyring (`keyring:<k>`) or a segment
 * (`segment:<k>:<s>`) until when. Taken atomically; an expired lease may be taken over.
 */
export interface LeaseRecord {
  readonly name: string;
  /** Who holds it: `<host>:<pid>:<random>`, for error messages. */
  readonly holder: string;
  /** ISO time after which another process may take it over. */
  readonly expiresAt: string;
}
