import { timingSafeEqual } from 'node:crypto';
import { auditDigest } from '../audit/audit-chain.js';
import { KeystrataError } from '../errors/keystrata-error.js';
import type { KeyStore } from '../key-store/key-store.js';
import type { AuditEvent, AuditRecord } from '../key-store/records.js';
import type { RootKey } from '../root-key/root-key.js';

/** Result of a successful {@link AuditLog.verify}. */
export interface AuditVerification {
  readonly records: number;
  /** Record these two outside the database to detect a truncated tail later. */
  readonly headSeq: number;
  readonly headMac: string;
}

/** Identifiers only: never key bytes, PINs or plaintext. */
export type AuditDetails = Readonly<Record<string, string | number | boolean>>;

/**
 * The tamper-evident audit trail: each record carries an HMAC-SHA256, computed inside the HSM, over
 * its fields and the previous record's MAC. Editing, deleting or reordering any record breaks it.
 */
export class AuditLog {
  constructor(
    private readonly keyStore: KeyStore,
    private readonly rootKey: RootKey,
    private readonly actor: string,
  ) {}

  /** Appends a record; a failure propagates (lifecycle operations must not go unrecorded). */
  async record(event: AuditEvent, subject: string, details: AuditDetails = {}): Promise<AuditRecord> {
    const entry = { at: new Date().toISOString(), event, subject, actor: this.actor, details: JSON.stringify(details) };
    return this.keyStore.appendAudit(entry, async (seq, prevMac) =>
      (await this.rootKey.auditMac(auditDigest(seq, prevMac, entry))).toString('base64'));
  }

  /** Appends a record where the caller is already failing with a more important error. */
  async recordQuietly(event: AuditEvent, subject: string, details: AuditDetails = {}): Promise<void> {
    await this.record(event, subject, details).catch(() => undefined);
  }

  /**
   * Checks every record: consecutive sequence numbers, each `prevMac` equal to the previous
   * record's MAC, and each MAC recomputed by the HSM. Throws `AUDIT_CHAIN_BROKEN` at the first fault.
   */
  async verify(): Promise<AuditVerification> {
    let prev: AuditRecord | undefined;
    let count = 0;
    for (;;) {
      const page = await this.keyStore.listAudit(prev?.seq ?? 0, 1000);
      if (page.length === 0) break;
      for (const record of page) {
        const broken = (reason: string): KeystrataError =>
          new KeystrataError('AUDIT_CHAIN_BROKEN', `Audit record ${record.seq}: ${reason}.`, { details: { seq: record.seq } });
        if (record.seq !== (prev?.seq ?? 0) + 1) throw broken(`expected sequence ${(prev?.seq ?? 0) + 1} (a record was deleted or reordered)`);
        if (record.prevMac !== (prev?.mac ?? '')) throw broken('does not chain to the previous record');
        const expected = await this.rootKey.auditMac(auditDigest(record.seq, record.prevMac, record));
        const actual = Buffer.from(record.mac, 'base64');
        if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) throw broken('its MAC does not match its contents (edited)');
        prev = record;
        count++;
      }
    }
    return { records: count, headSeq: prev?.seq ?? 0, headMac: prev?.mac ?? '' };
  }
}
