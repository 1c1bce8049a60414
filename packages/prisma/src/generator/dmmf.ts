/**
 * The part of a DMMF field the generator reads (a structural subset of `DMMF.Field`).
 *
 * @example
 * ```ts
 * const field: DmmfFieldLike = { name: 'ssn', kind: 'scalar', type: 'String', isList: false, isId: false, isUnique: false, documentation: '@encrypted' };
 * ```
 */
export interface DmmfFieldLike {
  readonly name: string;
  readonly kind: string;
  readonly type: string;
  readonly isList: boolean;
  readonly isId: boolean;
  readonly isUnique: boolean;
  readonly documentation?: string | undefined;
  readonly default?: unknown;
  readonly relationFromFields?: readonly string[] | undefined;
}

/**
 * The part of a DMMF model the generator reads (a structural subset of `DMMF.Model`).
 *
 * @example
 * ```ts
 * const model: DmmfModelLike = { name: 'Patient', fields: [idField, ssnField], primaryKey: null };
 * ```
 */
export interface DmmfModelLike {
  readonly name: string;
  readonly fields: readonly DmmfFieldLike[];
  readonly primaryKey?: { readonly fields: readonly string[] } | null | undefined;
  readonly documentation?: string | undefined;
}
