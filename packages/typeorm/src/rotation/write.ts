import type { ReencryptionUpdate } from '@keystrata/core';
import type { EntityInfo } from '../entity/entity-info.js';
import type { AdapterState } from '../state.js';
import { trustConditions } from '../query/string-conditions.js';
import { writePostgresBulk } from './write-postgres.js';

/**
 * Writes re-encrypted values back in one transaction, compare-and-swap: a row is only updated
 * where every field still holds its previous ciphertext, so a concurrent write wins. Returns the
 * number of records updated. On PostgreSQL, a few `UPDATE … FROM (VALUES …)` statements; elsewhere
 * one UPDATE per row.
 *
 * @example
 * ```ts
 * await writeUpdates(state, infos, [{ id: '["Patient","p1"]', fields: [{ field: 'ssn', previous, next }] }]);
 * ```
 */
export async function writeUpdates(state: AdapterState, infos: readonly EntityInfo[], updates: readonly ReencryptionUpdate[]): Promise<number> {
  const runner = state.dataSource.createQueryRunner();
  await runner.startTransaction();
  try {
    let written = 0;
    if (state.dataSource.driver.options.type === 'postgres') {
      // One statement per entity and field set instead of one per row (issue 15 §2: re-encryption rows/s).
      const byModel = new Map<string, Array<{ id: string; fields: ReencryptionUpdate['fields'] }>>();
      for (const update of updates) {
        const [model, id] = JSON.parse(update.id) as [string, string];
        byModel.set(model, [...(byModel.get(model) ?? []), { id, fields: update.fields }]);
      }
      for (const [model, parsed] of byModel) written += await writePostgresBulk(runner, infos.find((i) => i.model === model)!, parsed);
      await runner.commitTransaction();
      return written;
    }
    for (const update of updates) {
      const [model, id] = JSON.parse(update.id) as [string, string];
      const info = infos.find((i) => i.model === model)!;
      const qb = trustConditions(
        runner.manager
          .createQueryBuilder()
          .update(info.metadata.target)
          .set(Object.fromEntries(update.fields.map((f) => [f.field, f.next])))
          .callListeners(false)
          .whereInIds(id),
      );
      update.fields.forEach((f, i) => {
        const column = info.metadata.columns.find((c) => c.propertyName === f.field)!;
        qb.andWhere(`${qb.escape(column.databaseName)} = :previous${i}`, { [`previous${i}`]: f.previous });
      });
      if ((await qb.execute()).affected === 1) written++;
    }
    await runner.commitTransaction();
    return written;
  } catch (error) {
    await runner.rollbackTransaction().catch(() => undefined);
    throw error;
  } finally {
    await runner.release();
  }
}
