import { createHash } from 'node:crypto';
import type { AuditRecord } from '../key-store/records.js';

/**
 * The bytes an audit record's MAC covers: SHA-256 over the previous MAC and every field of the
 * record, each length-prefixed, so editing, deleting or reordering a record breaks the chain.
 * With `storeId` (trails started with one, docs/keystore.md) the digest is `keystrata-audit-v2`
 * and also covers the store id, so a record MACs only within its own key store's trail; without
 * it, `keystrata-audit-v1` as before (older trails stay verifiable).
 *
 * @example
 * ```ts
 * const mac = await rootKey.auditMac(auditDigest(seq, prevMac, entry, storeId));
 * ```
 */
export function auditDigest(seq: number, prevMac: string, entry: Omit<AuditRecord, 'seq' | 'prevMac' | 'mac'>, storeId?: string): Buffer {
  const hash = createHash('sha256');
  const head = storeId === undefined ? ['keystrata-audit-v1'] : ['keystrata-audit-v2', storeId];
  for (const part of [...head, String(seq), prevMac, entry.at, entry.event, entry.subject, entry.actor, entry.details]) {
    const bytes = Buffer.from(part, 'utf8');
    const length = Buffer.allocUnsafe(4);
    length.writeUInt32BE(bytes.length);
    hash.update(length).update(bytes);
  }
  return hash.digest();
}
