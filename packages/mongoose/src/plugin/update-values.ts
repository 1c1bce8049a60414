import type { Document } from 'mongoose';
import { castValue } from './filter-values.js';
import { readSlot, type Slot } from './update-buckets.js';
import type { ParsedUpdate } from './update-parse.js';
import type { ModelContext } from './state.js';
import { validatePath } from './validation-error.js';

/** The plaintext an update writes, cast (setters included) and, when asked, validated. */
export interface UpdatePlaintext {
  readonly set: ReadonlyMap<string, unknown>;
  readonly setOnInsert: ReadonlyMap<string, unknown>;
}

async function castSlots(ctx: ModelContext, slots: ReadonlyMap<string, Slot>, scope: unknown, validate: boolean): Promise<Map<string, unknown>> {
  const out = new Map<string, unknown>();
  for (const [path, slot] of slots) {
    const raw = readSlot(slot);
    const value = raw === null || raw === undefined ? raw : castValue(ctx, path, raw, scope);
    if (validate && value !== null && value !== undefined) await validatePath(ctx, path, value, scope, { updateValidator: true });
    out.set(path, value);
  }
  return out;
}

/**
 * Casts an update's encrypted values like Mongoose casts `$set` (so `lowercase` and other setters
 * apply to the plaintext) and runs their validators on the plaintext when the operation asks
 * for validation (`runValidators`, or a replacement being validated). A replacement is cast and
 * validated as a document.
 *
 * @example
 * ```ts
 * const plaintext = await plaintextOf(ctx, parsed, query, true); // cast and validated
 * ```
 */
export async function plaintextOf(ctx: ModelContext, parsed: ParsedUpdate, scope: unknown, validate: boolean): Promise<UpdatePlaintext> {
  if (!parsed.replacement) {
    return { set: await castSlots(ctx, parsed.set, scope, validate), setOnInsert: await castSlots(ctx, parsed.setOnInsert, scope, validate) };
  }
  const doc = new ctx.model(parsed.update) as Document;
  const paths = [...parsed.set.keys()];
  const values = new Map(paths.map((p) => [p, doc.get(p, null, { getters: false }) as unknown]));
  const present = paths.filter((p) => values.get(p) !== null && values.get(p) !== undefined);
  if (validate && present.length > 0) await doc.validate(present);
  return { set: values, setOnInsert: new Map() };
}
