import type { Model } from 'mongoose';
import { decryptTargets } from './decrypt.js';
import { isDocument, type Target } from './paths.js';
import type { PluginState } from './state.js';

/**
 * The documents inside a query result: an array, one document, or a ModifyResult's `value`.
 *
 * @example
 * ```ts
 * resultTargets({ value: doc, ok: 1, lastErrorObject: {} }); // [doc]
 * ```
 */
export function resultTargets(res: unknown): Target[] {
  if (Array.isArray(res)) return res.filter((r): r is Target => typeof r === 'object' && r !== null);
  if (typeof res !== 'object' || res === null) return [];
  if (!isDocument(res) && 'lastErrorObject' in res && 'value' in res) return resultTargets((res as { value: unknown }).value);
  return [res as Target];
}

/**
 * Decrypts whatever documents a query returned, in place.
 *
 * @example
 * ```ts
 * await decryptResult(state, Patient, docs);
 * ```
 */
export async function decryptResult(state: PluginState, model: Model<any>, res: unknown): Promise<void> {
  const targets = resultTargets(res);
  if (targets.length === 0) return;
  await decryptTargets(await state.context(model), targets);
}
