import { KeystrataError } from '@keystrata/core';
import type { Model } from 'mongoose';
import { decryptTargets } from './plugin/decrypt.js';
import { stateOf } from './plugin/plugin.js';
import { resultTargets } from './plugin/results.js';

/**
 * Decrypts, in place, documents that did not come through a Mongoose query: `aggregate()`
 * results, `Model.hydrate()` documents, documents read with the raw driver or a change stream.
 * Accepts one document (plain or hydrated) or an array; returns what it was given. The `_id` and
 * the segment field must be present as stored. Hydrated documents are not marked modified.
 *
 * @example
 * ```ts
 * const rows = await Patient.aggregate([{ $match: { tenantId: 'acme' } }]);
 * await decryptDocument(Patient, rows); // rows[0].ssn is plaintext
 * ```
 */
export async function decryptDocument<T>(model: Model<any>, doc: T): Promise<T> {
  const state = stateOf(model?.schema);
  if (state === undefined) throw new KeystrataError('CONFIG_INVALID', 'decryptDocument needs a model whose schema uses the keystrata plugin.');
  await decryptTargets(await state.context(model), resultTargets(doc));
  return doc;
}
