import { KeystrataError } from '@keystrata/core';
import { expect } from 'vitest';
import { rawPatients, type Fixture } from './fixture.js';

const ENVELOPE = /^ks1\.[A-Za-z0-9_-]+$/;

/** The error code of a promise's rejection ('none' when it resolves). */
export const codeOf = async (work: Promise<unknown> | PromiseLike<unknown>): Promise<string> =>
  Promise.resolve(work).then(
    () => 'none',
    (e: unknown) => (KeystrataError.isInstance(e) ? e.code : `untyped: ${String(e)}`),
  );

/**
 * Asserts that no stored patient holds plaintext of a marked path (no "canary" anywhere, any case),
 * that marked values are envelopes, and that each one opens with the core API under the context
 * the README documents (model, path, String(_id), tenant segment): the CLI reads the same values.
 */
export async function expectSealedAtRest(f: Fixture, expected: number): Promise<Record<string, unknown>[]> {
  const docs = await rawPatients(f);
  expect(docs).toHaveLength(expected);
  expect(JSON.stringify(docs).toLowerCase()).not.toContain('canary');
  for (const doc of docs) {
    for (const field of ['ssn', 'email'] as const) {
      const stored = doc[field];
      if (stored === undefined || stored === null) continue;
      expect(stored).toMatch(ENVELOPE);
      const context = { model: 'Patient', field, recordId: String(doc._id), segment: `tenantId:${String(doc.tenantId)}` };
      expect(String(await f.hierarchy.decryptValue(stored, context)).toLowerCase()).toContain('canary');
    }
  }
  return docs;
}
