import { copyUpdate, findSlot, type Slot } from './update-buckets.js';
import { checkKey, checkSegmentWrite, plain } from './update-checks.js';
import type { ModelContext } from './state.js';

type Obj = Record<string, unknown>;

/** An update (or replacement) taken apart: where each encrypted value sits, and what else it sets. */
export interface ParsedUpdate {
  /** A writable copy of the update. */
  readonly update: Obj;
  readonly replacement: boolean;
  /** Encrypted path → where `$set`, a top-level key or the replacement holds its new value. */
  readonly set: ReadonlyMap<string, Slot>;
  /** Encrypted path → where `$setOnInsert` holds its value. */
  readonly setOnInsert: ReadonlyMap<string, Slot>;
  /** Encrypted paths removed by `$unset` (their blind indexes go too). */
  readonly unset: readonly string[];
  /** Other values the update sets, for the segment policy. */
  readonly plainSet: Obj;
  readonly plainSetOnInsert: Obj;
}

/**
 * Parses an operator update or a replacement, refusing what cannot work on ciphertext: other
 * operators on an encrypted path (`$inc`, `$push`, `$rename`, …), writes inside an encrypted value
 * or to a blind-index path, and a segment-field change that leaves encrypted paths behind.
 *
 * @example
 * ```ts
 * parseUpdate(ctx, { $set: { ssn: 'x' } }, false).set.has('ssn'); // true
 * ```
 */
export function parseUpdate(ctx: ModelContext, input: Obj, replacement: boolean): ParsedUpdate {
  const update = replacement ? { ...input } : copyUpdate(input);
  const top = replacement ? update : (Object.fromEntries(Object.entries(update).filter(([k]) => !k.startsWith('$'))) as Obj);
  if (replacement) for (const f of ctx.spec.fields) if (f.index !== undefined) delete update[f.index];
  const touched: string[] = [];
  for (const [op, operand] of Object.entries(update)) {
    if (replacement || !op.startsWith('$')) continue;
    for (const [key, target] of Object.entries((operand ?? {}) as Obj)) {
      checkKey(ctx, op, key);
      if (op === '$rename' && typeof target === 'string') checkKey(ctx, op, target);
      if (op !== '$setOnInsert') touched.push(key);
    }
  }
  for (const key of Object.keys(top)) {
    checkKey(ctx, replacement ? 'a replacement' : '$set', key);
    touched.push(key);
  }
  const set = new Map<string, Slot>();
  const setOnInsert = new Map<string, Slot>();
  const unsetOp = (update.$unset ?? {}) as Obj;
  const unset: string[] = [];
  for (const f of ctx.spec.fields) {
    const slot = (replacement ? undefined : findSlot(update.$set as Obj | undefined, f.path)) ?? findSlot(update, f.path);
    if (slot !== undefined) set.set(f.path, slot);
    const insert = findSlot(update.$setOnInsert as Obj | undefined, f.path);
    if (insert !== undefined) setOnInsert.set(f.path, insert);
    if (Object.keys(unsetOp).some((k) => k === f.path || f.path.startsWith(`${k}.`))) unset.push(f.path);
  }
  if (!replacement) checkSegmentWrite(ctx, touched, new Set([...set.keys(), ...unset]).size);
  return {
    update,
    replacement,
    set,
    setOnInsert,
    unset,
    plainSet: { ...plain(ctx, update.$set as Obj | undefined), ...plain(ctx, top) },
    plainSetOnInsert: plain(ctx, update.$setOnInsert as Obj | undefined),
  };
}
