import { KeystrataError } from '../errors/keystrata-error.js';
import type { AuditRecord } from '../key-store/records.js';
import type { AuditKeyIdentity } from '../root-key/root-key.js';

/** Subject of the record that names the audit key, written first in every trail. */
export const AUDIT_KEY_SUBJECT = 'audit-key';

/**
 * The audit key identity an `audit-key` record names, or undefined for any other record.
 *
 * @example
 * ```ts
 * const recorded = recordedAuditKey(firstRecord);
 * ```
 */
export function recordedAuditKey(record: AuditRecord | undefined): AuditKeyIdentity | undefined {
  if (record?.event !== 'audit-key') return undefined;
  try {
    const details = JSON.parse(record.details) as Record<string, unknown>;
    if (typeof details.hsmId === 'string' && typeof details.checkValue === 'string') return { id: details.hsmId, checkValue: details.checkValue };
  } catch {
    /* fall through */
  }
  return { id: '', checkValue: '' };
}

/**
 * The store id an `audit-key` record names (trails started with `keystrata-audit-v2` digests), or
 * undefined: for any other record, and for a trail started before store ids existed.
 *
 * @example
 * ```ts
 * const storeId = recordedStoreId(firstRecord);
 * const digest = auditDigest(seq, prevMac, entry, storeId);
 * ```
 */
export function recordedStoreId(record: AuditRecord | undefined): string | undefined {
  if (record?.event !== 'audit-key') return undefined;
  try {
    const details = JSON.parse(record.details) as Record<string, unknown>;
    return typeof details.storeId === 'string' ? details.storeId : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether an `audit-key` record says the key store kept wrapped copies of the audit key when the
 * trail started (independent members, this version on): a missing copies row on such a trail was
 * deleted, never "a trail started before copies were kept".
 *
 * @example
 * ```ts
 * if (kept === undefined && recordedAuditKeyCopies(firstRecord)) throw tampered();
 * ```
 */
export function recordedAuditKeyCopies(record: AuditRecord | undefined): boolean {
  if (record?.event !== 'audit-key') return false;
  try {
    return (JSON.parse(record.details) as Record<string, unknown>).auditKeyCopies === true;
  } catch {
    return false;
  }
}

/**
 * Refuses with `AUDIT_KEY_MISMATCH` when the root's audit key is missing or is not the one the
 * trail recorded (a replaced key would otherwise MAC, and "verify", a forged trail).
 *
 * @example
 * ```ts
 * assertSameAuditKey(recordedAuditKey(first), await rootKey.auditKeyIdentity());
 * ```
 */
export function assertSameAuditKey(recorded: AuditKeyIdentity | undefined, current: AuditKeyIdentity | undefined): void {
  if (current === undefined) {
    throw new KeystrataError('AUDIT_KEY_MISMATCH', 'The HSM has no audit key, but this key store already has an audit trail; it is not created again.');
  }
  if (recorded !== undefined && (recorded.id !== current.id || recorded.checkValue !== current.checkValue)) {
    throw new KeystrataError('AUDIT_KEY_MISMATCH', 'The HSM audit key is not the one recorded at the start of the audit trail (different id or key check value).', {
      details: { recordedId: recorded.id, currentId: current.id },
    });
  }
}
