import { KeystrataError, UnreadableValue } from '@keystrata/core';
import type { ModelContext } from './state.js';

type Row = Record<string, unknown>;

/** One document's encrypted values to seal. */
export interface WriteItem {
  /** The document's `_id`, bound into each value's AAD when known. */
  readonly id: unknown;
  /** What the segment policy reads (the tenant field; the whole record for a function policy). */
  readonly record: Readonly<Row>;
  /** Encrypted path → plaintext; null or undefined clears the value and its blind index. */
  readonly values: ReadonlyMap<string, unknown>;
}

/**
 * Seals the values of many documents in one batch (one key resolution per segment) and returns,
 * per item, path → envelope and blind-index path → index (null/undefined where the value is).
 * All or nothing: on error nothing is returned.
 *
 * @example
 * ```ts
 * const [sealed] = await sealWrites(ctx, [{ id, record: { tenantId: 'acme' }, values: new Map([['ssn', '123-45-6789']]) }]);
 * sealed.get('ssn'); // 'ks1.…'
 * ```
 */
export async function sealWrites(ctx: ModelContext, items: readonly WriteItem[]): Promise<Map<string, unknown>[]> {
  const rows = items.map((item) => {
    const row: Row = {};
    for (const [k, v] of Object.entries(item.record)) if (!ctx.spec.byPath.has(k) && !ctx.spec.byIndex.has(k)) row[k] = v;
    row._id = item.id;
    for (const [path, value] of item.values) {
      if (UnreadableValue.isInstance(value)) throw new KeystrataError('PLAINTEXT_REJECTED', `${ctx.name}.${path} holds an unreadable-value placeholder; write a real value (nothing was written).`);
      row[path] = value;
    }
    return row;
  });
  await ctx.records.encrypt(ctx.name, rows);
  return rows.map((row, i) => {
    const out = new Map<string, unknown>();
    for (const path of items[i]!.values.keys()) {
      out.set(path, row[path]);
      const index = ctx.spec.byPath.get(path)?.index;
      if (index !== undefined) out.set(index, row[path] === null || row[path] === undefined ? row[path] : row[index]);
    }
    return out;
  });
}
