import { EntityManager, QueryBuilder, SelectQueryBuilder, type EntityMetadata, type EntityTarget, type ObjectLiteral } from 'typeorm';
import { assertNothingEncrypted } from '../read/guard.js';
import { assertOrderable, assertSortable } from '../query/order.js';
import { rewriteWhere } from '../query/where.js';
import { refuseEncryptedInString, trustBuiltCondition } from '../query/string-conditions.js';
import { infoOf, stateOf } from '../state.js';

type Self = SelectQueryBuilder<ObjectLiteral>;
type Original = (self: unknown, args: unknown[]) => unknown;

/** Replaces `proto[name]` by `make(callOriginal)`; `this` is passed as the first argument. */
function wrap<T>(proto: object, name: string, make: (original: Original) => (self: T, args: unknown[]) => unknown): void {
  const target = proto as Record<string, (...args: unknown[]) => unknown>;
  const method = target[name]!;
  const replacement = make((self, args) => Reflect.apply(method, self, args));
  target[name] = function (this: unknown, ...args: unknown[]) {
    return replacement(this as T, args);
  };
}

/**
 * Wraps where/order building and entity loading of the QueryBuilders: equality on an encrypted
 * field becomes a blind-index lookup, Like/ranges/ordering/MIN/MAX on one are refused with
 * QUERY_UNSUPPORTED, and `callListeners(false)` entity reads of encrypted values are refused.
 *
 * @example
 * ```ts
 * patchSelect(); // once per process
 * ```
 */
export function patchSelect(): void {
  const select = SelectQueryBuilder.prototype;
  wrap<Self>(select, 'buildWhere', (original) => (self, [where, metadata, ...rest]) => {
    const state = stateOf(self.dataSource);
    const rewritten = state && rest[1] === undefined ? rewriteWhere(state, metadata as EntityMetadata, where, false) : where;
    const condition = original(self, [rewritten, metadata, ...rest]);
    if (state) trustBuiltCondition(self, condition);
    return condition;
  });
  wrap<Self>(select, 'buildOrder', (original) => (self, args) => {
    const state = stateOf(self.dataSource);
    if (state && args[3] === undefined) assertOrderable(state, args[1] as EntityMetadata, args[0]);
    return original(self, args);
  });
  for (const name of ['orderBy', 'addOrderBy']) {
    wrap<Self>(select, name, (original) => (self, args) => (assertSortable(self, args[0]), original(self, args)));
  }
  wrap<QueryBuilder<ObjectLiteral>>(QueryBuilder.prototype, 'getWhereCondition', (original) => (self, [where]) => {
    const state = stateOf(self.dataSource);
    const alias = self.expressionMap.mainAlias;
    if (state && typeof where === 'string') refuseEncryptedInString(state, self, where);
    return original(self, [state && alias?.hasMetadata ? rewriteWhere(state, alias.metadata, where, true) : where]);
  });
  wrap<Self>(select, 'executeEntitiesAndRawResults', (original) => async (self, args) => {
    const result = (await original(self, args)) as { entities: unknown[] };
    const state = stateOf(self.dataSource);
    const alias = self.expressionMap.mainAlias;
    if (state && !self.expressionMap.callListeners && alias?.hasMetadata) assertNothingEncrypted(state, alias.metadata, result.entities);
    return result;
  });
  wrap<EntityManager>(EntityManager.prototype, 'callAggregateFun', (original) => (self, args) => {
    const state = stateOf(self.dataSource);
    const info = state ? infoOf(state, self.dataSource.getMetadata(args[0] as EntityTarget<ObjectLiteral>)) : undefined;
    if (info !== undefined) assertOrderable(state!, info.metadata, { [String(args[2])]: args[1] });
    return original(self, args);
  });
}
