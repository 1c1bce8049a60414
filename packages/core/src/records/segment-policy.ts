import { KeystrataError } from '../errors/keystrata-error.js';

/**
 * How a record's data segment (and so its DEK) is chosen:
 * - `{ by: 'tenant', field }`: one DEK per value of `field` (segment `<field>:<value>`);
 * - `{ by: 'record' }`: one DEK per record (segment `<model>:<id>`), for per-record crypto-shredding;
 * - `{ by: 'fixed', segment }`: one DEK for everything;
 * - a function of the model and record returning the segment (your own key).
 *
 * @example
 * ```ts
 * const policy: SegmentPolicy = { by: 'tenant', field: 'tenantId' };
 * ```
 */
export type SegmentPolicy =
  | { readonly by: 'tenant'; readonly field: string }
  | { readonly by: 'record' }
  | { readonly by: 'fixed'; readonly segment: string }
  | ((args: { readonly model: string; readonly id: string | undefined; readonly record: Readonly<Record<string, unknown>> }) => string);

/**
 * Validates a segment policy once.
 *
 * @example
 * ```ts
 * assertSegmentPolicy({ by: 'record' });
 * ```
 */
export function assertSegmentPolicy(policy: unknown): asserts policy is SegmentPolicy {
  if (typeof policy === 'function') return;
  const p = policy as Record<string, unknown> | null;
  if (p?.by === 'record') return;
  if (p?.by === 'tenant' && typeof p.field === 'string' && p.field !== '') return;
  if (p?.by === 'fixed' && typeof p.segment === 'string' && p.segment !== '') return;
  throw new KeystrataError('CONFIG_INVALID', "segment must be { by: 'tenant', field }, { by: 'record' }, { by: 'fixed', segment } or a function.");
}

/**
 * The segment of one record under a policy; throws CONFIG_INVALID when the record lacks what the
 * policy needs (the write fails rather than landing in a wrong segment).
 *
 * @example
 * ```ts
 * resolveSegment({ by: 'tenant', field: 'tenantId' }, 'Patient', 'p1', { tenantId: 'acme' }); // 'tenantId:acme'
 * ```
 */
export function resolveSegment(policy: SegmentPolicy, model: string, id: string | undefined, record: Readonly<Record<string, unknown>>): string {
  let segment: unknown;
  if (typeof policy === 'function') segment = policy({ model, id, record });
  else if (policy.by === 'fixed') segment = policy.segment;
  else if (policy.by === 'record') segment = id === undefined || id === '' ? undefined : `${model}:${id}`;
  else {
    const value = record[policy.field];
    segment = value === undefined || value === null || value === '' ? undefined : `${policy.field}:${String(value)}`;
  }
  if (typeof segment !== 'string' || segment === '') {
    const need =
      typeof policy === 'function' ? 'the segment function returned no segment' : policy.by === 'record' ? 'the record id is not known' : `field "${(policy as { field: string }).field}" is missing`;
    throw new KeystrataError('CONFIG_INVALID', `Cannot choose a segment for ${model}: ${need}. Include it in the write (nothing was written).`);
  }
  return segment;
}
