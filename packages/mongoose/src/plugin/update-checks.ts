import { unsupported } from '../errors.js';
import type { ModelContext } from './state.js';

type Obj = Record<string, unknown>;

/**
 * True when one path is the other or contains it.
 *
 * @example
 * ```ts
 * related('address', 'address.street'); // true
 * ```
 */
const related = (a: string, b: string): boolean => a === b || a.startsWith(`${b}.`) || b.startsWith(`${a}.`);
const HINT = 'Encrypted paths can only be set ($set, $setOnInsert, a replacement) or removed ($unset).';

/**
 * Refuses an update key that cannot work on ciphertext: a blind-index path, an operator other
 * than `$set`/`$setOnInsert`/`$unset` on an encrypted path, a write inside an encrypted value.
 *
 * @example
 * ```ts
 * checkKey(ctx, '$inc', 'ssn'); // throws QUERY_UNSUPPORTED
 * ```
 */
export function checkKey(ctx: ModelContext, op: string, key: string): void {
  const where = (p: string): string => `${ctx.name}.${p}`;
  const index = ctx.spec.byIndex.get(key);
  if (index !== undefined) throw unsupported(where(key), op, `It is the blind index of ${index.path} and is written by the plugin; write ${index.path} instead.`);
  for (const f of ctx.spec.fields) {
    const writable = op === '$set' || op === '$setOnInsert' || op === '$unset' || op === 'a replacement';
    if (!writable && related(key, f.path)) throw unsupported(where(f.path), op, HINT);
    if (key.startsWith(`${f.path}.`)) throw unsupported(where(key), `${op} inside an encrypted value`, HINT);
  }
}

/**
 * The entries of a bucket that are not encrypted paths (for the segment policy).
 *
 * @example
 * ```ts
 * plain(ctx, { ssn: 'x', tenantId: 'acme' }); // { tenantId: 'acme' }
 * ```
 */
export function plain(ctx: ModelContext, bucket: Obj | undefined): Obj {
  return Object.fromEntries(Object.entries(bucket ?? {}).filter(([k]) => !k.startsWith('$') && !ctx.spec.fields.some((f) => related(k, f.path))));
}

/**
 * Refuses an update that changes a segment field without rewriting every encrypted path (they
 * would stay under the old segment's key).
 *
 * @example
 * ```ts
 * checkSegmentWrite(ctx, ['tenantId'], 1); // throws QUERY_UNSUPPORTED when ctx has 2 encrypted paths
 * ```
 */
export function checkSegmentWrite(ctx: ModelContext, touched: readonly string[], written: number): void {
  const fields = ctx.spec.segmentFields;
  if (fields === 'all' || written === ctx.spec.fields.length) return;
  const hit = fields.find((s) => touched.some((k) => related(k, s)));
  if (hit !== undefined) {
    throw unsupported(
      `${ctx.name}.${hit}`,
      'changing the segment field in an update',
      `The encrypted paths it does not rewrite would stay under the old segment's key. Set every encrypted path in the same update, or load the document and save() it.`,
    );
  }
}
