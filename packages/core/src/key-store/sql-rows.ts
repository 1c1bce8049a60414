import type { AuditRecord, CmkRecord, DekChain, DekRecord, JobRecord, KekRecord, KeyState, PolicyRecord, TombstoneRecord } from './records.js';

type Row = Record<string, unknown>;
const str = (v: unknown): string => String(v);
const num = (v: unknown): number => Number(v);

/** Maps a `keystrata_cmk` row (optionally with a column prefix) to a record. */
export function cmkFromRow(row: Row, p = '', keyring = str(row[`${p}keyring`])): CmkRecord {
  return {
    keyring,
    version: num(row[`${p}version`]),
    hsmLabel: str(row[`${p}hsm_label`]),
    hsmId: str(row[`${p}hsm_id`]),
    state: row[`${p}state`] as KeyState,
    createdAt: str(row[`${p}created_at`]),
    updatedAt: str(row[`${p}updated_at`]),
  };
}

/** Maps a `keystrata_kek` row (optionally with a column prefix) to a record. */
export function kekFromRow(row: Row, p = '', keyring = str(row[`${p}keyring`])): KekRecord {
  return {
    keyring,
    version: num(row[`${p}version`]),
    cmkVersion: num(row[`${p}cmk_version`]),
    wrapped: str(row[`${p}wrapped`]),
    state: row[`${p}state`] as KeyState,
    createdAt: str(row[`${p}created_at`]),
    updatedAt: str(row[`${p}updated_at`]),
    binding: row[`${p}binding`] == null ? '' : str(row[`${p}binding`]),
  };
}

/** Maps a `keystrata_dek` row to a record. */
export function dekFromRow(row: Row): DekRecord {
  return {
    id: str(row.id),
    keyring: str(row.keyring),
    segment: str(row.segment),
    version: num(row.version),
    kekVersion: num(row.kek_version),
    wrapped: str(row.wrapped),
    state: row.state as KeyState,
    createdAt: str(row.created_at),
    updatedAt: str(row.updated_at),
  };
}

/** Maps a joined DEK/KEK/CMK row to a chain. */
export function chainFromRow(row: Row): DekChain {
  const dek = dekFromRow(row);
  return {
    dek,
    kek: row.k_version == null ? undefined : kekFromRow(row, 'k_', dek.keyring),
    cmk: row.c_version == null ? undefined : cmkFromRow(row, 'c_', dek.keyring),
  };
}

/** Maps a `keystrata_audit` row to a record. */
export function auditFromRow(row: Row): AuditRecord {
  return {
    seq: num(row.seq),
    at: str(row.at),
    event: row.event as AuditRecord['event'],
    subject: str(row.subject),
    actor: str(row.actor),
    details: str(row.details),
    prevMac: str(row.prev_mac),
    mac: str(row.mac),
  };
}

/** Maps a `keystrata_job` row to a record. */
export function jobFromRow(row: Row): JobRecord {
  return {
    id: str(row.id),
    kind: str(row.kind),
    state: row.state as JobRecord['state'],
    cursor: row.cursor == null ? null : str(row.cursor),
    processed: num(row.processed),
    data: str(row.data),
    updatedAt: str(row.updated_at),
  };
}

/** Maps a `keystrata_tombstone` row to a record. */
export function tombstoneFromRow(row: Row): TombstoneRecord {
  return {
    kind: row.kind as TombstoneRecord['kind'],
    id: str(row.id),
    keyring: str(row.keyring),
    segment: str(row.segment),
    destroyedAt: str(row.destroyed_at),
    durableAt: row.durable_at == null ? null : str(row.durable_at),
  };
}

/** Maps a `keystrata_policy` row to a record (NULL = no such rule). */
export function policyFromRow(row: Row): PolicyRecord {
  const optional = (value: unknown): number | null => (value == null ? null : num(value));
  return {
    keyring: str(row.keyring),
    kekValiditySeconds: optional(row.kek_validity_s),
    dekValiditySeconds: optional(row.dek_validity_s),
    dekUsageLimit: optional(row.dek_usage_limit),
    updatedAt: str(row.updated_at),
  };
}
