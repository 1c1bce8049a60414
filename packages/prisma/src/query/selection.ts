import type { KeystrataRuntime } from '../extension/runtime.js';
import { isPlainObject, type Row } from '../util/plain.js';
import { emptyPlan, type SelectionPlan } from './plan.js';

/** What decrypting needs: the id and tenant field, or every unencrypted scalar for a function policy (it may read any of them). */
function readContextFields(rt: KeystrataRuntime, model: string): string[] {
  const entry = rt.model(model)!;
  if (!rt.functionPolicy) return rt.contextFields(model);
  const skip = new Set(entry.encrypted.flatMap((f) => (f.index === undefined ? [f.field] : [f.field, f.index])));
  return Object.keys(entry.scalars).filter((f) => !skip.has(f));
}

/**
 * Makes sure a selection that returns encrypted fields also returns what decrypting them needs
 * (record id, tenant field; every unencrypted scalar for a function policy): adds them to
 * `select`, or takes them out of `omit`, and records what it added so the result looks as the
 * caller asked. The core then always checks each value against its own row's segment.
 *
 * @example
 * ```ts
 * const args = { select: { ssn: true } };
 * ensureContextFields(rt, 'Patient', args); // args.select = { ssn: true, id: true, tenantId: true }; plan.added = ['id', 'tenantId']
 * ```
 */
export function ensureContextFields(rt: KeystrataRuntime, model: string, args: Row): SelectionPlan {
  const plan = emptyPlan();
  const encrypted = rt.model(model)?.encrypted ?? [];
  if (encrypted.length === 0) return plan;
  const context = readContextFields(rt, model);
  if (isPlainObject(args.select)) {
    const select = args.select;
    if (!encrypted.some((f) => select[f.field] === true)) return plan;
    for (const field of context) if (select[field] !== true) (select[field] = true), plan.added.push(field);
  } else if (isPlainObject(args.omit)) {
    const omit = args.omit;
    if (encrypted.every((f) => omit[f.field] === true)) return plan;
    for (const field of context) if (omit[field] === true) delete omit[field], plan.added.push(field);
  }
  return plan;
}
