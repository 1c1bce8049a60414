import { SelectQueryBuilder, type EntityMetadata, type ObjectLiteral } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata.js';
import type { QueryExpressionMap } from 'typeorm/query-builder/QueryExpressionMap.js';
import { DriverUtils } from 'typeorm/driver/DriverUtils.js';
import type { EntityInfo } from '../entity/entity-info.js';
import { infoOf, stateOf, type AdapterState } from '../state.js';

type Self = SelectQueryBuilder<ObjectLiteral>;
type Selection = { selection: string; aliasName?: string; virtual?: boolean };
type Builder = { buildEscapedEntityColumnSelects(alias: string, metadata: EntityMetadata): Selection[]; buildColumnSelectionExpression(alias: string, column: ColumnMetadata): string };
type Row = Record<string, unknown>;

/** Per query: the properties Keystrata added to the selection of an alias, to strip from the result. */
const added = new WeakMap<QueryExpressionMap, Array<{ alias: string; property: string; selection: object }>>();

/** What decrypting needs beside the values: the id, the tenant field of a tenant policy, every plain column for a function policy. */
function contextProperties(state: AdapterState, info: EntityInfo): string[] {
  const policy = state.segment;
  if (typeof policy === 'function') {
    const skip = new Set(info.fields.flatMap((f) => (f.index === undefined ? [f.field] : [f.field, f.index])));
    return info.metadata.columns.filter((c) => c.relationMetadata === undefined && c.embeddedMetadata === undefined && !skip.has(c.propertyName)).map((c) => c.propertyName);
  }
  return policy.by === 'tenant' ? [info.idField, policy.field] : [info.idField];
}

function addContextColumns(self: Self, alias: string, metadata: EntityMetadata, selects: Selection[]): void {
  const info = infoOf(stateOf(self.dataSource), metadata);
  if (info === undefined || selects.length === 0) return;
  const name = (column: ColumnMetadata) => DriverUtils.buildAlias(self.dataSource.driver, undefined, alias, column.databaseName);
  const present = new Set(selects.map((s) => s.aliasName));
  const columnOf = (property: string) => metadata.columns.find((c) => c.propertyName === property);
  if (!info.fields.some((f) => present.has(name(columnOf(f.field)!)))) return;
  for (const property of contextProperties(stateOf(self.dataSource)!, info)) {
    const column = columnOf(property);
    if (column === undefined || present.has(name(column))) continue;
    selects.push({ selection: (self as unknown as Builder).buildColumnSelectionExpression(alias, column), aliasName: name(column), virtual: true });
    // TypeORM hydrates only selected columns: the selection is registered for this execution and removed after it.
    const selection = { selection: `${alias}.${property}`, virtual: true };
    self.expressionMap.selects.push(selection);
    const list = added.get(self.expressionMap) ?? [];
    added.set(self.expressionMap, [...list, { alias, property, selection }]);
  }
}

/** The entities of `alias` in a result: the main entities, or the relation objects a join put under them. */
function entitiesOf(self: Self, alias: string, roots: readonly unknown[]): Row[] {
  if (alias === self.expressionMap.mainAlias?.name) return roots.filter((r): r is Row => typeof r === 'object' && r !== null);
  const join = self.expressionMap.joinAttributes.find((j) => j.alias.name === alias);
  if (join?.parentAlias === undefined || join.relationPropertyPath === undefined) return [];
  return entitiesOf(self, join.parentAlias, roots).flatMap((parent) => {
    const value = parent[join.relationPropertyPath!];
    return (Array.isArray(value) ? value : [value]).filter((v): v is Row => typeof v === 'object' && v !== null);
  });
}

/**
 * Wraps the column selection of entity queries (issue 11 §2, issue 12): whenever an encrypted
 * column of an entity is selected, its segment (tenant) column and id are selected too, so the
 * core always checks the value against the row's own segment; what the caller did not select is
 * removed again from the entities once they are decrypted.
 *
 * @example
 * ```ts
 * patchContextColumns(); // once per process
 * ```
 */
export function patchContextColumns(): void {
  const proto = SelectQueryBuilder.prototype as unknown as Builder & { executeEntitiesAndRawResults(...args: unknown[]): Promise<{ entities: unknown[] }> };
  const select = proto.buildEscapedEntityColumnSelects;
  proto.buildEscapedEntityColumnSelects = function (this: Self, alias: string, metadata: EntityMetadata) {
    const selects = select.call(this, alias, metadata);
    if (stateOf(this.dataSource) !== undefined) addContextColumns(this, alias, metadata, selects);
    return selects;
  };
  const execute = proto.executeEntitiesAndRawResults;
  proto.executeEntitiesAndRawResults = async function (this: Self, ...args: unknown[]) {
    let result: { entities: unknown[] } | undefined;
    try {
      return (result = await execute.apply(this, args));
    } finally {
      const extra = added.get(this.expressionMap);
      if (extra !== undefined) {
        added.delete(this.expressionMap);
        const selects = this.expressionMap.selects;
        for (const { alias, property, selection } of extra) {
          const at = selects.indexOf(selection as (typeof selects)[number]);
          if (at >= 0) selects.splice(at, 1);
          if (result !== undefined) for (const entity of entitiesOf(this, alias, result.entities)) delete entity[property];
        }
      }
    }
  };
}
