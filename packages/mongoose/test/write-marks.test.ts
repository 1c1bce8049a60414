import { KeyHierarchy } from '@keystrata/core';
import { isEnvelope } from '@keystrata/core/adapter';
import { MemoryKeyStore, SoftwareRootKey } from '@keystrata/core/testing';
import mongoose, { Schema, type Document } from 'mongoose';
import { afterAll, describe, expect, it } from 'vitest';
import { restorePlaintext, sealDocuments } from '../src/plugin/seal-documents.js';
import { PluginState } from '../src/plugin/state.js';

// Unit level: documents are only built (no database); the core is real (SoftwareRootKey, MemoryKeyStore).
const hierarchy = await KeyHierarchy.create({ rootKey: new SoftwareRootKey(), keyStore: new MemoryKeyStore() });
await hierarchy.provision();
afterAll(() => hierarchy.close());
const connection = mongoose.createConnection(); // never opened
const schema = new Schema({ tenantId: String, email: { type: String, encrypted: { index: 'emailIndex' } }, emailIndex: String, ssn: { type: String, encrypted: true } });
const Patient = connection.model('WriteMarksPatient', schema);
const state = new PluginState({ hierarchy, segment: { by: 'tenant', field: 'tenantId' } });
const MARKS = Symbol.for('keystrata.mongoose.writeMarks');

describe('sealDocuments on the stored values', () => {
  it('issue 16 §adapters: seals new documents in their stored values (nothing marked modified), keeps one marks record per document, and restores the plaintext', async () => {
    const ctx = await state.context(Patient);
    const docs = Array.from({ length: 3 }, (_, i) => new Patient({ tenantId: 't1', email: `p${i}@example.org`, ssn: `ssn-${i}` })) as Document[];
    await sealDocuments(ctx, docs);
    for (const [i, doc] of docs.entries()) {
      expect(isEnvelope(doc.get('ssn', null, { getters: false }))).toBe(true);
      expect(isEnvelope(doc.get('email', null, { getters: false }))).toBe(true);
      expect(String(doc.get('emailIndex'))).toMatch(/^bi1\./);
      expect(doc.modifiedPaths()).toEqual(expect.not.arrayContaining(['ssn', 'email', 'emailIndex']));
      expect(Object.hasOwn(doc, MARKS)).toBe(true);
      restorePlaintext(doc);
      expect(doc.get('ssn')).toBe(`ssn-${i}`);
      expect(doc.get('email')).toBe(`p${i}@example.org`);
    }
  });

  it('issue 16 §adapters: the blind index the plugin wrote stays accepted after restore, a hand-written one is refused', async () => {
    const ctx = await state.context(Patient);
    const doc = new Patient({ tenantId: 't1', email: 'a@example.org', ssn: '123-45-6789' }) as Document;
    await sealDocuments(ctx, [doc]);
    restorePlaintext(doc);
    await expect(sealDocuments(ctx, [doc])).resolves.toBeUndefined();
    restorePlaintext(doc);
    const other = new Patient({ tenantId: 't1', email: 'b@example.org', ssn: '1', emailIndex: doc.get('emailIndex') }) as Document;
    await expect(sealDocuments(ctx, [other])).rejects.toMatchObject({ code: 'QUERY_UNSUPPORTED' });
  });
});
