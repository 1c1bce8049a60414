import type { ReencryptionUpdate } from '@keystrata/core';
import type { QueryRunner } from 'typeorm';
import type { EntityInfo } from '../entity/entity-info.js';

/** Rows per statement (3 parameters per row and field; PostgreSQL allows 65,535). */
const ROWS_PER_STATEMENT = 2000;

/** One record's update, its id parsed. */
interface Parsed {
  readonly id: string;
  readonly fields: ReencryptionUpdate['fields'];
}

/**
 * Writes one entity's re-encrypted values on PostgreSQL in a few statements instead of one per row:
 * `UPDATE … FROM (VALUES …)` joined on the primary key, updating a row only where every field still
 * holds its previous ciphertext (compare-and-swap, as the per-row path). Returns the rows changed.
 *
 * @example
 * ```ts
 * const written = await writePostgresBulk(runner, info, [{ id: 'p1', fields: [{ field: 'ssn', previous, next }] }]);
 * ```
 */
export async function writePostgresBulk(runner: QueryRunner, info: EntityInfo, updates: readonly Parsed[]): Promise<number> {
  const driver = runner.connection.driver as unknown as { escape(name: string): string; normalizeType(column: unknown): string };
  const primary = info.metadata.primaryColumns[0]!;
  const idType = driver.normalizeType(primary);
  const table = info.metadata.tablePath
    .split('.')
    .map((part) => driver.escape(part))
    .join('.');
  // Records with the same fields to write share a statement.
  const groups = new Map<string, Parsed[]>();
  for (const update of updates) {
    const key = update.fields.map((f) => f.field).join('\0');
    groups.set(key, [...(groups.get(key) ?? []), update]);
  }
  let written = 0;
  for (const group of groups.values()) {
    const fields = group[0]!.fields.map((f) => f.field);
    const columns = fields.map((field) => driver.escape(info.metadata.columns.find((c) => c.propertyName === field)!.databaseName));
    for (let start = 0; start < group.length; start += ROWS_PER_STATEMENT) {
      const params: unknown[] = [];
      const rows = group.slice(start, start + ROWS_PER_STATEMENT).map((update) => {
        const cells = [`$${params.push(update.id)}::${idType}`];
        for (const f of update.fields) cells.push(`$${params.push(f.previous)}::text`, `$${params.push(f.next)}::text`);
        return `(${cells.join(', ')})`;
      });
      const sql =
        `UPDATE ${table} AS t SET ${columns.map((c, i) => `${c} = v.n${i}`).join(', ')} ` +
        `FROM (VALUES ${rows.join(', ')}) AS v(id, ${fields.map((_, i) => `p${i}, n${i}`).join(', ')}) ` +
        `WHERE t.${driver.escape(primary.databaseName)} = v.id AND ${columns.map((c, i) => `t.${c} = v.p${i}`).join(' AND ')}`;
      const result = (await runner.query(sql, params)) as unknown;
      // TypeORM returns [rows, affected] for an UPDATE on PostgreSQL.
      written += Array.isArray(result) && typeof result[1] === 'number' ? result[1] : 0;
    }
  }
  return written;
}
