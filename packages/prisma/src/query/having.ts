import type { KeystrataRuntime } from '../extension/runtime.js';
import { arrayify, isPlainObject } from '../util/plain.js';
import { unsupported } from './unsupported.js';

/**
 * Refuses any `having` condition on an encrypted field: aggregates of ciphertext are meaningless.
 *
 * @example
 * ```ts
 * checkHaving(rt, 'Patient', { email: { _count: { gt: 1 } } }); // throws QUERY_UNSUPPORTED
 * ```
 */
export function checkHaving(rt: KeystrataRuntime, model: string, having: unknown): void {
  if (!isPlainObject(having)) return;
  for (const [key, value] of Object.entries(having)) {
    if (key === 'AND' || key === 'OR' || key === 'NOT') for (const inner of arrayify(value)) checkHaving(rt, model, inner);
    else if (rt.records.isEncrypted(model, key)) throw unsupported(`${model}.${key} is encrypted: "having" cannot run on ciphertext.`);
  }
}
