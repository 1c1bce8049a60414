import type { KeystrataRuntime } from '../extension/runtime.js';
import { isPlainObject, type Row } from '../util/plain.js';

/**
 * Gathers the records of a result by model, following relation fields present in them (as
 * `include`/`select` nested them), so each model's values are decrypted in one batch.
 *
 * @example
 * ```ts
 * const byModel = new Map<string, Row[]>();
 * collectRecords(rt, 'User', users, byModel); // byModel: User → users, Post → their posts
 * ```
 */
export function collectRecords(rt: KeystrataRuntime, model: string, value: unknown, into: Map<string, Row[]>): void {
  if (Array.isArray(value)) {
    for (const item of value) collectRecords(rt, model, item, into);
    return;
  }
  if (!isPlainObject(value) || !rt.touches(model)) return;
  const entry = rt.model(model)!;
  if (entry.encrypted.length > 0) {
    const rows = into.get(model);
    if (rows === undefined) into.set(model, [value]);
    else rows.push(value);
  }
  for (const field in entry.relations) {
    if (value[field] !== undefined && value[field] !== null) collectRecords(rt, entry.relations[field]!.model, value[field], into);
  }
}
