import { KeystrataError, type ReencryptionHook, type ReencryptionUpdate } from '@keystrata/core';
import { runtimeOf } from '../decrypt-row.js';
import type { KeystrataRuntime } from '../extension/runtime.js';
import type { Row } from '../util/plain.js';
import { delegateName, typedKey } from '../util/keys.js';
import { parseRecordKey } from './cursor.js';
import { scanSegment, type SegmentWhere } from './scan.js';
import { segmentFilter } from './segment-filter.js';

/**
 * Options of {@link prismaReencryptionHook}.
 *
 * @example
 * ```ts
 * const options: PrismaReencryptionOptions = { models: ['Patient'] };
 * ```
 */
export interface PrismaReencryptionOptions {
  /** Models to re-encrypt (default: every model with encrypted fields). */
  readonly models?: readonly string[];
  /** The filter of a segment's records per model; required with a segment function. */
  readonly segmentWhere?: SegmentWhere;
}

function write(rt: KeystrataRuntime, updates: readonly ReencryptionUpdate[]): Promise<number> {
  const base = rt.base as { $transaction(queries: unknown[]): Promise<Array<{ count: number }>> } & Record<string, { updateMany(args: Row): unknown }>;
  const queries = updates.map((update) => {
    const [model, id] = parseRecordKey(update.id);
    const idField = rt.model(model)!.id!;
    const where = { [idField.field]: typedKey(idField.type, id), AND: update.fields.map((f) => ({ [f.field]: f.previous })) };
    return base[delegateName(model)]!.updateMany({ where, data: Object.fromEntries(update.fields.map((f) => [f.field, f.next])) });
  });
  return base.$transaction(queries).then((results) => results.reduce((n, r) => n + r.count, 0));
}

/**
 * The core's ReencryptionHook for a `withKeystrata` client, so `hierarchy.rotateDek` can
 * re-encrypt a segment's rows in batches: pages by ascending id through the client under the
 * extension, and writes each new ciphertext only where the stored one is still the old one
 * (a concurrent application write is never overwritten).
 *
 * @example
 * ```ts
 * await hierarchy.rotateDek({ segment: 'tenantId:acme', hook: prismaReencryptionHook(db) });
 * ```
 */
export function prismaReencryptionHook(db: unknown, options: PrismaReencryptionOptions = {}): ReencryptionHook {
  const rt = runtimeOf(db);
  const models = options.models ?? Object.keys(rt.fieldMap.models).filter((m) => rt.model(m)!.encrypted.length > 0);
  for (const model of models) {
    if (rt.model(model)?.encrypted.length === 0 || rt.model(model)?.id == null)
      throw new KeystrataError('CONFIG_INVALID', `prismaReencryptionHook: ${model} needs encrypted fields and a single-field id.`);
  }
  const where: SegmentWhere = options.segmentWhere ?? ((segment, model) => segmentFilter(rt, model, segment));
  return {
    scan: (args) => scanSegment(rt, models, where, args),
    write: (updates) => write(rt, updates),
    async count({ segment }) {
      let total = 0;
      for (const model of models) {
        const filter = where(segment, model);
        if (filter !== null) total += await (rt.base as Record<string, { count(a: Row): Promise<number> }>)[delegateName(model)]!.count({ where: filter });
      }
      return total;
    },
  };
}
