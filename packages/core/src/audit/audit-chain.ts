import { createHash } from 'node:crypto';
import type { AuditRecord } from '../key-store/records.js';

/**
 * The bytes an audit record's MAC covers: SHA-256 over the previous MAC and every field of the
 * record, each length-prefixed, so editing, deleting or reordering a record breaks the chain.
 *
 * @example
 * ```ts
 * const mac = await rootKey.auditMac(auditDigest(seq, prevMac, entry));
 * ```
 */
export function auditDigest(seq: number, prevMac: string, entry: Omit<AuditRecord, 'seq' | 'prevMac' | 'mac'>): Buffer {
  const hash = createHash('sha256');
  for (const part of ['keystrata-audit-v1', String(seq), prevMac, entry.at, entry.event, entry.subject, entry.actor, entry.details]) {
    const bytes = Buffer.from(part, 'utf8');
    const length = Buffer.allocUnsafe(4);
    length.writeUInt32BE(bytes.length);
    hash.update(length).update(bytes);
  }
  return hash.digest();
}
