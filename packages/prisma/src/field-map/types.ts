/**
 * How a model's primary key gets its value, as far as binding it into the AAD is concerned:
 * the generator functions Keystrata can run client-side before encrypting (`cuid`, `cuid2`,
 * `uuid4`, `uuid7`, `nanoid`, `ulid`), `client` (no default: the caller always supplies it) or
 * `database` (`autoincrement()`, `dbgenerated()`, `sequence()`: unknown until the row exists).
 *
 * @example
 * ```ts
 * const strategy: IdStrategy = 'cuid';
 * ```
 */
export type IdStrategy = 'cuid' | 'cuid2' | 'uuid4' | 'uuid7' | 'nanoid' | 'ulid' | 'client' | 'database';

/**
 * One model as the runtime needs it: encrypted fields (with their blind-index column), the
 * single-field primary key, scalar types and relations.
 *
 * @example
 * ```ts
 * const patient: FieldMapModel = {
 *   encrypted: [{ field: 'ssn' }, { field: 'email', index: 'emailIndex' }],
 *   id: { field: 'id', type: 'String', strategy: 'cuid' },
 *   scalars: { id: 'String', tenantId: 'String', ssn: 'String', email: 'String', emailIndex: 'String' },
 *   relations: {},
 * };
 * ```
 */
export interface FieldMapModel {
  readonly encrypted: ReadonlyArray<{ readonly field: string; readonly index?: string }>;
  /** The single-field primary key, or null for composite / missing ids. */
  readonly id: { readonly field: string; readonly type: string; readonly strategy: IdStrategy } | null;
  /** Scalar and enum fields with their Prisma type. */
  readonly scalars: Readonly<Record<string, string>>;
  /** Relation fields: target model, list or not, and the foreign-key fields held on this side. */
  readonly relations: Readonly<Record<string, { readonly model: string; readonly isList: boolean; readonly fields: readonly string[] }>>;
}

/**
 * What the `keystrata-prisma` generator emits from `/// @encrypted` annotations in schema.prisma.
 *
 * @example
 * ```ts
 * import { fieldMap } from './generated/keystrata/index.js';
 * const db = withKeystrata(prisma, { hierarchy, fieldMap, segment: { by: 'tenant', field: 'tenantId' } });
 * ```
 */
export interface FieldMap {
  readonly version: 1;
  readonly models: Readonly<Record<string, FieldMapModel>>;
}
