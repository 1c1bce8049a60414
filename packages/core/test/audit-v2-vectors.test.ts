import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { auditDigest } from '../src/audit/audit-chain.js';
import type { AuditRecord } from '../src/key-store/records.js';

// Known-answer vectors of the v2 audit digest (issue 11 §5 review), appended to mac-inputs.json by
// scripts/make-format-vectors.mjs; the v1 entries stay pinned by format-vectors.test.ts.

interface AuditV2Vector {
  readonly name: string;
  readonly storeId: string;
  readonly seq: number;
  readonly prevMac: string;
  readonly entry: Omit<AuditRecord, 'seq' | 'prevMac' | 'mac'>;
  readonly preimageHex: string;
  readonly digestHex: string;
}

const file = join(dirname(fileURLToPath(import.meta.url)), 'vectors', 'mac-inputs.json');
const vectors = (JSON.parse(readFileSync(file, 'utf8')) as { auditV2: AuditV2Vector[] }).auditV2;

describe('issue 11 §5 (review): keystrata-audit-v2 known-answer vectors', () => {
  it('issue 11 §5 (review): auditDigest with a store id gives the committed SHA-256 of the committed v2 preimage, and the store id, seq and every field change it', () => {
    expect(vectors.length).toBeGreaterThanOrEqual(2);
    for (const v of vectors) {
      expect(Buffer.from(v.preimageHex, 'hex').subarray(4, 22).toString('utf8'), v.name).toBe('keystrata-audit-v2');
      expect(auditDigest(v.seq, v.prevMac, v.entry, v.storeId).toString('hex'), v.name).toBe(v.digestHex);
      expect(createHash('sha256').update(Buffer.from(v.preimageHex, 'hex')).digest('hex'), v.name).toBe(v.digestHex);
      expect(auditDigest(v.seq, v.prevMac, v.entry).toString('hex'), `${v.name}: v1`).not.toBe(v.digestHex);
      expect(auditDigest(v.seq, v.prevMac, v.entry, `${v.storeId}0`).toString('hex'), `${v.name}: store id`).not.toBe(v.digestHex);
      expect(auditDigest(v.seq + 1, v.prevMac, v.entry, v.storeId).toString('hex'), `${v.name}: seq`).not.toBe(v.digestHex);
      for (const field of ['at', 'event', 'subject', 'actor', 'details'] as const) {
        expect(auditDigest(v.seq, v.prevMac, { ...v.entry, [field]: `${v.entry[field]}x` }, v.storeId).toString('hex'), `${v.name}: ${field}`).not.toBe(v.digestHex);
      }
    }
  });
});
