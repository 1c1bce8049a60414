import { isEnvelope } from '@keystrata/core/adapter';
import { readPath, type Target } from './paths.js';
import type { ModelContext } from './state.js';
import { findSlot, readSlot } from './update-buckets.js';

type Obj = Record<string, unknown>;
type Op = Record<string, Obj>;

const sealedOrEmpty = (v: unknown): boolean => v === null || v === undefined || isEnvelope(v);

/**
 * True when every encrypted value in the ops is already an envelope: `bulkSave()` ran the pre-save
 * hook first. Any plaintext makes it false, and the batch is then processed (and fails closed).
 *
 * @example
 * ```ts
 * alreadySealed(ctx, [{ insertOne: { document: doc } }]);
 * ```
 */
export function alreadySealed(ctx: ModelContext, ops: readonly Op[]): boolean {
  return ops.every((op) => {
    const [kind, body] = Object.entries(op ?? {})[0] ?? [];
    if (kind === 'insertOne') return ctx.spec.fields.every((f) => sealedOrEmpty(readPath(body!.document as Target, f.path)));
    if (kind !== 'updateOne') return false;
    const update = (body!.update ?? {}) as Obj;
    return ctx.spec.fields.every((f) => {
      const slot = findSlot(update.$set as Obj | undefined, f.path) ?? findSlot(update, f.path);
      return slot === undefined || sealedOrEmpty(readSlot(slot));
    });
  });
}
