import { KeystrataError, type AuditRecord } from '@keystrata/core';
import type { mongo } from 'mongoose';
import { isDuplicateKey } from './collections.js';
import type { AuditDoc } from './documents.js';

const ATTEMPTS = 20;

/**
 * Appends an audit record after the current last one. Atomic without transactions: `_id` is the
 * sequence number, so when another process appended first the insert fails as a duplicate and
 * the record is re-chained (and re-sealed) after the new last one. `count` is told of each query.
 *
 * @example
 * ```ts
 * const record = await appendAudit(collections.audit, entry, seal, () => queries++);
 * ```
 */
export async function appendAudit(
  audit: mongo.Collection<AuditDoc>,
  entry: Omit<AuditRecord, 'seq' | 'prevMac' | 'mac'>,
  seal: (seq: number, prevMac: string) => Promise<string>,
  count: () => void,
): Promise<AuditRecord> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    count();
    const [last] = await audit
      .find({}, { projection: { _id: 1, mac: 1 } })
      .sort({ _id: -1 })
      .limit(1)
      .toArray();
    const seq = (last?._id ?? 0) + 1;
    const prevMac = last?.mac ?? '';
    const mac = await seal(seq, prevMac);
    count();
    try {
      await audit.insertOne({ _id: seq, at: entry.at, event: entry.event, subject: entry.subject, actor: entry.actor, details: entry.details, prev_mac: prevMac, mac });
      return { ...entry, seq, prevMac, mac };
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
  }
  throw new KeystrataError('KEYSTORE_UNAVAILABLE', `Appending to the audit trail lost the race ${ATTEMPTS} times in a row.`);
}
