import { KeystrataError } from '@keystrata/core';
import type { KeystrataRuntime } from '../extension/runtime.js';
import type { Row } from '../util/plain.js';
import { typedKey } from '../util/keys.js';

/**
 * The filter selecting a segment's records of `model` under the client's segment policy
 * (`tenantId:acme` → `{ tenantId: 'acme' }`, `Patient:p1` → `{ id: 'p1' }`, fixed → all);
 * null when the model holds none of the segment's records. A segment function has no inverse:
 * pass `segmentWhere` to the hook.
 *
 * @example
 * ```ts
 * segmentFilter(rt, 'Patient', 'tenantId:acme'); // { tenantId: 'acme' }
 * ```
 */
export function segmentFilter(rt: KeystrataRuntime, model: string, segment: string): Row | null {
  const entry = rt.model(model)!;
  const policy = rt.policy;
  if (typeof policy === 'function') throw new KeystrataError('CONFIG_INVALID', 'With a segment function, give prismaReencryptionHook a segmentWhere option.');
  if (policy.by === 'fixed') return policy.segment === segment ? {} : null;
  const colon = segment.indexOf(':');
  if (colon < 0) return null;
  const [prefix, value] = [segment.slice(0, colon), segment.slice(colon + 1)];
  if (policy.by === 'tenant') return prefix === policy.field && entry.scalars[policy.field] !== undefined ? { [policy.field]: typedKey(entry.scalars[policy.field], value) } : null;
  return prefix === model && entry.id !== null ? { [entry.id.field]: typedKey(entry.id.type, value) } : null;
}
