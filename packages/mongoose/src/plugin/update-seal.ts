import { sealWrites, type WriteItem } from './records.js';
import { copyUpdate, findSlot, writeSlot } from './update-buckets.js';
import type { ParsedUpdate } from './update-parse.js';
import type { UpdatePlaintext } from './update-values.js';
import type { UpdateTarget } from './update-targets.js';
import type { ModelContext } from './state.js';

type Obj = Record<string, unknown>;

/**
 * Adds `$unset` of the blind index of each encrypted path the update removes.
 *
 * @example
 * ```ts
 * withIndexUnsets(ctx, parsed, { $unset: { email: 1 } }); // also unsets emailIndex
 * ```
 */
export function withIndexUnsets(ctx: ModelContext, parsed: ParsedUpdate, update: Obj): Obj {
  const indexes = parsed.unset.flatMap((p) => ctx.spec.byPath.get(p)?.index ?? []);
  if (indexes.length === 0) return update;
  return { ...update, $unset: { ...(update.$unset as Obj | undefined), ...Object.fromEntries(indexes.map((i) => [i, ''])) } };
}

function place(ctx: ModelContext, update: Obj, bucketOf: (u: Obj, path: string) => ReturnType<typeof findSlot>, sealed: ReadonlyMap<string, unknown>): void {
  for (const [path, value] of sealed) {
    if (ctx.spec.byIndex.has(path)) continue;
    const slot = bucketOf(update, path)!;
    writeSlot(slot, value);
    const index = ctx.spec.byPath.get(path)?.index;
    if (index !== undefined) slot.bucket[index] = sealed.get(index) ?? null;
  }
}

/**
 * Seals an update's encrypted values once per target document (its `_id` and segment) in one
 * batch, and returns one update per target with envelopes and blind indexes in place of the
 * plaintext. `$setOnInsert` values are bound to the document an upsert would insert.
 *
 * @example
 * ```ts
 * const [update] = await sealUpdate(ctx, parsed, targets, plaintext);
 * ```
 */
export async function sealUpdate(ctx: ModelContext, parsed: ParsedUpdate, targets: readonly UpdateTarget[], plaintext: UpdatePlaintext): Promise<Obj[]> {
  const items: WriteItem[] = [];
  for (const t of targets) {
    items.push({ id: t.id, record: t.record, values: plaintext.set });
    if (plaintext.setOnInsert.size > 0) items.push({ id: t.id, record: t.insertRecord, values: plaintext.setOnInsert });
  }
  const sealed = await sealWrites(ctx, items);
  let next = 0;
  return targets.map(() => {
    const update = parsed.replacement ? { ...parsed.update } : copyUpdate(parsed.update);
    const setBucket = (u: Obj, p: string) => (parsed.replacement ? undefined : findSlot(u.$set as Obj | undefined, p)) ?? findSlot(u, p);
    place(ctx, update, setBucket, sealed[next++]!);
    if (plaintext.setOnInsert.size > 0) place(ctx, update, (u, p) => findSlot(u.$setOnInsert as Obj | undefined, p), sealed[next++]!);
    return withIndexUnsets(ctx, parsed, update);
  });
}
