import type { AuditRecord, CmkRecord, DekRecord, JobRecord, KekRecord, KeyState } from '@keystrata/core';

/** A `keystrata_cmk` document: the columns of the SQL table, snake_case. */
export interface CmkDoc {
  keyring: string;
  version: number;
  hsm_label: string;
  hsm_id: string;
  state: KeyState;
  created_at: string;
  updated_at: string;
}
/** A `keystrata_kek` document. */
export interface KekDoc {
  keyring: string;
  version: number;
  cmk_version: number;
  wrapped: string;
  state: KeyState;
  created_at: string;
  updated_at: string;
  binding?: string;
}
/** A `keystrata_dek` document; `_id` is the DEK id. */
export interface DekDoc {
  _id: string;
  keyring: string;
  segment: string;
  version: number;
  kek_version: number;
  wrapped: string;
  state: KeyState;
  created_at: string;
  updated_at: string;
}
/** A `keystrata_audit` document; `_id` is the sequence number. */
export interface AuditDoc {
  _id: number;
  at: string;
  event: string;
  subject: string;
  actor: string;
  details: string;
  prev_mac: string;
  mac: string;
}
/** A `keystrata_job` document; `_id` is the job id. */
export interface JobDoc {
  _id: string;
  kind: string;
  state: string;
  cursor: string | null;
  processed: number;
  data: string;
  updated_at: string;
}
/** A `keystrata_lease` document; `_id` is the lease name. */
export interface LeaseDoc {
  _id: string;
  holder: string;
  expires_at: string;
}

/**
 * Maps a CMK document to its record.
 *
 * @example
 * ```ts
 * cmkFromDoc(await db.collection('keystrata_cmk').findOne()); // CmkRecord
 * ```
 */
export const cmkFromDoc = (d: CmkDoc): CmkRecord => ({
  keyring: d.keyring,
  version: d.version,
  hsmLabel: d.hsm_label,
  hsmId: d.hsm_id,
  state: d.state,
  createdAt: d.created_at,
  updatedAt: d.updated_at,
});

/**
 * Maps a CMK record to its document.
 *
 * @example
 * ```ts
 * await collections.cmk.insertOne(cmkToDoc(record));
 * ```
 */
export const cmkToDoc = (r: CmkRecord): CmkDoc => ({
  keyring: r.keyring,
  version: r.version,
  hsm_label: r.hsmLabel,
  hsm_id: r.hsmId,
  state: r.state,
  created_at: r.createdAt,
  updated_at: r.updatedAt,
});

/**
 * Maps a KEK document to its record.
 *
 * @example
 * ```ts
 * kekFromDoc(doc).cmkVersion; // from cmk_version
 * ```
 */
export const kekFromDoc = (d: KekDoc): KekRecord => ({
  keyring: d.keyring,
  version: d.version,
  cmkVersion: d.cmk_version,
  wrapped: d.wrapped,
  state: d.state,
  createdAt: d.created_at,
  updatedAt: d.updated_at,
  binding: d.binding ?? '',
});

/**
 * Maps a KEK record to its document.
 *
 * @example
 * ```ts
 * await collections.kek.insertOne(kekToDoc(record));
 * ```
 */
export const kekToDoc = (r: KekRecord): KekDoc => ({
  keyring: r.keyring,
  version: r.version,
  cmk_version: r.cmkVersion,
  wrapped: r.wrapped,
  state: r.state,
  created_at: r.createdAt,
  updated_at: r.updatedAt,
  binding: r.binding ?? '',
});

/**
 * Maps a DEK document to its record.
 *
 * @example
 * ```ts
 * dekFromDoc(doc).id; // the document's _id
 * ```
 */
export const dekFromDoc = (d: DekDoc): DekRecord => ({
  id: d._id,
  keyring: d.keyring,
  segment: d.segment,
  version: d.version,
  kekVersion: d.kek_version,
  wrapped: d.wrapped,
  state: d.state,
  createdAt: d.created_at,
  updatedAt: d.updated_at,
});

/**
 * Maps a DEK record to its document.
 *
 * @example
 * ```ts
 * await collections.dek.insertOne(dekToDoc(record));
 * ```
 */
export const dekToDoc = (r: DekRecord): DekDoc => ({
  _id: r.id,
  keyring: r.keyring,
  segment: r.segment,
  version: r.version,
  kek_version: r.kekVersion,
  wrapped: r.wrapped,
  state: r.state,
  created_at: r.createdAt,
  updated_at: r.updatedAt,
});

/**
 * Maps an audit document to its record.
 *
 * @example
 * ```ts
 * auditFromDoc(doc).seq; // the document's _id
 * ```
 */
export const auditFromDoc = (d: AuditDoc): AuditRecord => ({
  seq: d._id,
  at: d.at,
  event: d.event as AuditRecord['event'],
  subject: d.subject,
  actor: d.actor,
  details: d.details,
  prevMac: d.prev_mac,
  mac: d.mac,
});

/**
 * Maps a job document to its record.
 *
 * @example
 * ```ts
 * jobFromDoc(await collections.job.findOne({ _id: id }));
 * ```
 */
export const jobFromDoc = (d: JobDoc): JobRecord => ({
  id: d._id,
  kind: d.kind,
  state: d.state as JobRecord['state'],
  cursor: d.cursor,
  processed: d.processed,
  data: d.data,
  updatedAt: d.updated_at,
});
