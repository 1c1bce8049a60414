import { KeystrataError } from '@keystrata/core';
import type { EncryptedFieldSpec, FieldValue } from '@keystrata/core/adapter';
import { Equal, In, InstanceChecker, type EntityMetadata } from 'typeorm';
import type { EntityInfo } from '../entity/entity-info.js';
import { infoOf, type AdapterState } from '../state.js';
import { BlindIndexToken } from './index-token.js';

type Row = Record<string, unknown>;

const isPlainObject = (v: unknown): v is Row =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date) && !(v instanceof Uint8Array) && !InstanceChecker.isFindOperator(v) && !InstanceChecker.isBrackets(v);

function unsupported(info: EntityInfo, field: string, what: string): KeystrataError {
  return new KeystrataError(
    'QUERY_UNSUPPORTED',
    `${info.model}.${field} is encrypted: ${what} cannot run on ciphertext. Use equality (a value, Equal() or In()) on a field with @Encrypted({ index }), or IsNull().`,
  );
}

/** The condition replacing `field: value`: [property, condition] on the blind index, or the field itself for IS NULL. */
function condition(state: AdapterState, info: EntityInfo, spec: EncryptedFieldSpec, value: unknown): [string, unknown] {
  const cached = state.dataSource.queryResultCache !== undefined;
  const token = (v: unknown) => new BlindIndexToken(info.model, spec.field, v as FieldValue, cached);
  if (value === null) return [spec.field, value];
  if (InstanceChecker.isFindOperator(value)) {
    if (value.type === 'isNull' || (value.type === 'not' && value.child?.type === 'isNull')) return [spec.field, value];
    if (value.type !== 'equal' && value.type !== 'in') throw unsupported(info, spec.field, `the "${value.type}" operator`);
  }
  if (spec.index === undefined) throw unsupported(info, spec.field, 'an equality lookup without a blind index');
  if (InstanceChecker.isFindOperator(value) && value.type === 'in') return [spec.index, In((value.value as unknown as unknown[]).map(token))];
  return [spec.index, Equal(token(InstanceChecker.isFindOperator(value) ? value.value : value))];
}

/**
 * Rewrites a TypeORM `where` object so conditions on encrypted fields compare blind indexes
 * (`{ email: 'x' }` → `{ emailIndex: Equal(<index of 'x'>) }`) and refuses what ciphertext cannot
 * answer (Like, ranges, Raw, …) with QUERY_UNSUPPORTED. With `deep`, relation conditions are
 * rewritten too. The caller's object is never modified.
 *
 * @example
 * ```ts
 * rewriteWhere(state, metadata, { email: 'ada@example.com' }, true); // { emailIndex: Equal(token) }
 * ```
 */
export function rewriteWhere(state: AdapterState, metadata: EntityMetadata, where: unknown, deep: boolean): unknown {
  if (Array.isArray(where)) return where.map((w) => rewriteWhere(state, metadata, w, deep));
  if (!isPlainObject(where)) return where;
  const info = infoOf(state, metadata);
  let out: Row | undefined;
  for (const [key, value] of Object.entries(where)) {
    const spec = info?.fields.find((f) => f.field === key);
    if (spec !== undefined && value !== undefined) {
      const [property, replaced] = condition(state, info!, spec, value);
      if (property !== key && property in where) throw new KeystrataError('QUERY_UNSUPPORTED', `Filter on ${info!.model}.${key} or on its blind index ${property}, not both.`);
      out ??= { ...where };
      delete out[key];
      out[property] = replaced;
    } else if (deep && isPlainObject(value)) {
      const relation = metadata.findRelationWithPropertyPath(key);
      const nested = relation ? rewriteWhere(state, relation.inverseEntityMetadata, value, deep) : value;
      if (nested !== value) (out ??= { ...where })[key] = nested;
    }
  }
  return out ?? where;
}
