import type { KeyHierarchy } from '@keystrata/core';
import { emailOf, lookupSeqs } from '../data.js';

/** A looked-up row as the ORM stores it (envelopes, no decryption). */
interface StoredLookupRow {
  readonly id: string;
  readonly tenantId: string;
  readonly email: string;
  readonly ssn: string;
}

/**
 * The core's share of W3, without an ORM: per lookup, the blind index of the e-mail and the decrypt
 * of the row found (already read into `storedRows`), under the adapter's model name.
 */
export function coreLookups(hierarchy: KeyHierarchy, model: string, storedRows: ReadonlyMap<number, StoredLookupRow>): () => Promise<void> {
  return async () => {
    for (const seq of lookupSeqs) {
      await hierarchy.blindIndex(emailOf(seq), { model, field: 'email' });
      const row = storedRows.get(seq)!;
      const segment = `tenantId:${row.tenantId}`;
      await hierarchy.decryptValues([
        { ciphertext: row.email, context: { model, field: 'email', recordId: row.id, segment } },
        { ciphertext: row.ssn, context: { model, field: 'ssn', recordId: row.id, segment } },
      ]);
    }
  };
}
