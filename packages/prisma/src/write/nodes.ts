import type { Row } from '../util/plain.js';

/**
 * Where a nested record sits: the top-level record's unique `where`, then relation steps.
 *
 * @example
 * ```ts
 * const locator: Locator = { model: 'User', where: { id: 'u1' }, steps: [{ relation: 'posts', isList: true, where: { id: 'p1' } }] };
 * ```
 */
export interface Locator {
  readonly model: string;
  readonly where: Row;
  readonly steps: ReadonlyArray<{ readonly relation: string; readonly isList: boolean; readonly where?: Row | undefined }>;
  /** Tokens of the nested upserts this path runs through (their update branch). */
  readonly scopes?: readonly object[];
}

/**
 * A record being created: its `data` receives envelopes and blind indexes.
 *
 * @example
 * ```ts
 * const node: CreateNode = { model: 'Patient', data: { tenantId: 't', ssn: '123' } };
 * ```
 */
export interface CreateNode {
  readonly model: string;
  readonly data: Row;
  /** Foreign keys a nested create inherits from its parent (not in its `data`), for the segment policy. */
  readonly context?: Row;
}

/**
 * A record being updated; its id / segment come from `context`, `where`, `data` or a lookup.
 *
 * @example
 * ```ts
 * const node: UpdateNode = { model: 'Patient', data: { ssn: '123' }, where: { id: 'p1' }, locator };
 * ```
 */
export interface UpdateNode {
  readonly model: string;
  readonly data: Row;
  readonly where: Row | undefined;
  readonly locator: Locator | undefined;
  /** Known id / segment fields (set for rows expanded from an updateMany). */
  context?: Row;
  /** Adds a condition to the write's `where` (compare-and-swap on a looked-up tenant). */
  readonly guard?: ((condition: Row) => void) | undefined;
  /** For an upsert's update branch: the record does not exist, so make it a create. */
  readonly onMissing?: (() => void) | undefined;
  /** The token of the nested upsert this node is the update branch of. */
  readonly scope?: object | undefined;
  /** Only checks the record exists (an upsert whose update branch writes deeper down). */
  readonly presence?: boolean;
}

/**
 * A nested updateMany writing encrypted fields: expanded into one update per matching row.
 *
 * @example
 * ```ts
 * writes.many.push({ model: 'Post', data, locator, expand: (items) => void (ops.update = items) });
 * ```
 */
export interface UpdateManyNode {
  readonly model: string;
  readonly data: Row;
  readonly locator: Locator;
  readonly expand: (items: ReadonlyArray<{ where: Row; data: Row }>) => void;
}

/**
 * Everything one operation writes, gathered from its (nested) arguments before anything is
 * encrypted.
 *
 * @example
 * ```ts
 * const writes = newWrites();
 * await walkCreate(rt, 'User', args.data, writes);
 * ```
 */
export interface Writes {
  readonly creates: CreateNode[];
  readonly updates: UpdateNode[];
  readonly many: UpdateManyNode[];
}

/**
 * An empty {@link Writes}.
 *
 * @example
 * ```ts
 * const writes = newWrites();
 * ```
 */
export function newWrites(): Writes {
  return { creates: [], updates: [], many: [] };
}

/**
 * A locator one relation step deeper.
 *
 * @example
 * ```ts
 * const posts = stepInto(userLocator, 'posts', true, { id: 'p1' });
 * ```
 */
export function stepInto(locator: Locator | undefined, relation: string, isList: boolean, where?: Row): Locator | undefined {
  return locator === undefined ? undefined : { ...locator, steps: [...locator.steps, { relation, isList, where }] };
}
