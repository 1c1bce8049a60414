import { KeystrataError } from '@keystrata/core';
import type { ObjectLiteral, QueryBuilder } from 'typeorm';
import { infoOf, type AdapterState } from '../state.js';

const trusted = new WeakSet<object>();
const built = new WeakMap<object, Set<string>>();
const IDENT = String.raw`(?:"[^"]+"|\x60[^\x60]+\x60|\[[^\]]+\]|[A-Za-z_][\w$]*)`;
const REFERENCE = new RegExp(`(${IDENT})(?:\\s*\\.\\s*(${IDENT}))?`, 'g');
const LITERALS = /'(?:[^']|'')*'/g;
const PARAMETERS = /:(?:\.\.\.)?[A-Za-z_][\w$]*/g;

const unquote = (name: string) => name.replace(/^["`[]|["`\]]$/g, '').toLowerCase();

/**
 * Marks a QueryBuilder whose string conditions Keystrata wrote itself (compare-and-swap on
 * ciphertext in the rotation hook), so they are not refused.
 *
 * @example
 * ```ts
 * trustConditions(qb).andWhere('"ssn" = :previous', { previous });
 * ```
 */
export function trustConditions<T extends object>(qb: T): T {
  trusted.add(qb);
  return qb;
}

/**
 * Records a condition TypeORM built from a where object (after Keystrata rewrote it to blind
 * indexes and `IS NULL`), so it is not refused when TypeORM adds it as a string.
 *
 * @example
 * ```ts
 * trustBuiltCondition(qb, built); // in the buildWhere wrapper
 * ```
 */
export function trustBuiltCondition(qb: object, condition: unknown): void {
  if (typeof condition !== 'string' || condition === '') return;
  const set = built.get(qb) ?? new Set<string>();
  built.set(qb, set.add(condition));
}

/** The encrypted columns (property and database names, lower case) of the entity behind an alias. */
function encryptedNames(state: AdapterState, qb: QueryBuilder<ObjectLiteral>, alias: string | undefined): Set<string> {
  let found = alias === undefined ? qb.expressionMap.mainAlias : undefined;
  // A Brackets condition is built on a child builder that shares the main alias only: look in its parents too.
  for (
    let at: QueryBuilder<ObjectLiteral> | undefined = qb;
    alias !== undefined && found === undefined && at !== undefined;
    at = (at as unknown as { parentQueryBuilder?: QueryBuilder<ObjectLiteral> }).parentQueryBuilder
  ) {
    const map = at.expressionMap;
    found = [...(map.mainAlias ? [map.mainAlias] : []), ...map.aliases].find((a) => a.name.toLowerCase() === alias);
  }
  const info = found?.hasMetadata ? infoOf(state, found.metadata) : undefined;
  const names = new Set<string>();
  for (const { field } of info?.fields ?? []) {
    names.add(field.toLowerCase());
    const column = info!.metadata.columns.find((c) => c.propertyName === field);
    if (column !== undefined) names.add(column.databaseName.toLowerCase());
  }
  return names;
}

/**
 * Refuses a string WHERE condition that names an encrypted column (`'p.email = :e'`,
 * `"p.ssn LIKE 'ks1.%'"`): it would run on ciphertext and silently match nothing, or everything.
 * Conditions on encrypted fields go through where objects (`andWhere({ email })`), which use the
 * blind index.
 *
 * @example
 * ```ts
 * refuseEncryptedInString(state, qb, 'p.email = :e'); // throws QUERY_UNSUPPORTED
 * ```
 */
export function refuseEncryptedInString(state: AdapterState, qb: QueryBuilder<ObjectLiteral>, condition: string): void {
  if (trusted.has(qb) || built.get(qb)?.has(condition) === true) return;
  const text = condition.replace(LITERALS, "''").replace(PARAMETERS, ' ');
  for (const match of text.matchAll(REFERENCE)) {
    const [qualifier, name] = match[2] === undefined ? [undefined, match[1]!] : [unquote(match[1]!), match[2]];
    if (encryptedNames(state, qb, qualifier).has(unquote(name))) {
      throw new KeystrataError(
        'QUERY_UNSUPPORTED',
        `The condition names the encrypted column ${unquote(name)}: SQL on ciphertext matches nothing or everything. Filter with a where object instead (andWhere({ field: value }) uses the blind index).`,
      );
    }
  }
}
