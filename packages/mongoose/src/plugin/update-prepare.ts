import { unsupported } from '../errors.js';
import { equalities } from './filter-values.js';
import { rewriteFilter } from './filter.js';
import { findSlot } from './update-buckets.js';
import { parseUpdate } from './update-parse.js';
import { sealUpdate, withIndexUnsets } from './update-seal.js';
import { resolveTargets } from './update-targets.js';
import { plaintextOf } from './update-values.js';
import type { ModelContext } from './state.js';

type Obj = Record<string, unknown>;

/** An update as issued: `updateOne`/`updateMany`/`findOneAndUpdate`/`replaceOne`/…, from a query or a bulkWrite op. */
export interface UpdateRequest {
  readonly filter: Obj;
  readonly update: unknown;
  readonly replacement: boolean;
  readonly multi: boolean;
  readonly upsert: boolean;
  readonly sort?: unknown;
  readonly session?: unknown;
  /** Validate the encrypted values' plaintext (runValidators, or a replacement Mongoose validates). */
  readonly validate: boolean;
  /** `this` for setters and validators (the query), if any. */
  readonly scope: unknown;
}

/**
 * What to send instead: one operation of the same kind (`perDocument` false), none (nothing
 * matched: skip the write), or one `updateOne` per matched document (`perDocument` true: a
 * multi-document update of encrypted values, each bound to its own `_id` and segment).
 */
export interface PreparedUpdate {
  readonly ops: ReadonlyArray<{ readonly filter: Obj; readonly update: unknown }>;
  readonly perDocument: boolean;
}

/**
 * An upsert copies the filter's equality conditions into the document it inserts; for an
 * encrypted path the filter now holds its blind index instead, so the value goes to `$setOnInsert`
 * (and is sealed there) unless the update writes that path itself.
 */
function withFilterEqualities(ctx: ModelContext, request: UpdateRequest): unknown {
  if (!request.upsert || request.replacement || Array.isArray(request.update)) return request.update;
  const update = (request.update ?? {}) as Obj;
  const eq = equalities(request.filter ?? {});
  const writes = (path: string): boolean => [update, update.$set, update.$setOnInsert, update.$unset].some((b) => findSlot(b as Obj | undefined, path) !== undefined);
  const extra = ctx.spec.fields.filter((f) => eq[f.path] !== undefined && eq[f.path] !== null && !writes(f.path));
  if (extra.length === 0) return update;
  return { ...update, $setOnInsert: { ...(update.$setOnInsert as Obj | undefined), ...Object.fromEntries(extra.map((f) => [f.path, eq[f.path]])) } };
}

function checkPipeline(ctx: ModelContext, pipeline: unknown[]): void {
  const text = JSON.stringify(pipeline);
  const hit = ctx.spec.fields.find((f) => text.includes(f.path) || (f.index !== undefined && text.includes(f.index)));
  if (hit !== undefined) throw unsupported(`${ctx.name}.${hit.path}`, 'an update pipeline', 'Pipelines compute values on the server, where only ciphertext exists; use $set with a value.');
}

/**
 * Rewrites the filter, seals the encrypted values and pins the write to the documents it binds them to.
 *
 * @example
 * ```ts
 * const prepared = await prepareUpdate(ctx, { filter, update, replacement: false, multi: false, upsert: false, validate: false, scope: query });
 * ```
 */
export async function prepareUpdate(ctx: ModelContext, request: UpdateRequest): Promise<PreparedUpdate> {
  const filter = await rewriteFilter(ctx, request.filter ?? {}, request.scope);
  if (Array.isArray(request.update)) {
    checkPipeline(ctx, request.update);
    return { ops: [{ filter, update: request.update }], perDocument: false };
  }
  const parsed = parseUpdate(ctx, (withFilterEqualities(ctx, request) ?? {}) as Obj, request.replacement);
  if (parsed.set.size === 0 && parsed.setOnInsert.size === 0) {
    return { ops: [{ filter, update: withIndexUnsets(ctx, parsed, parsed.update) }], perDocument: false };
  }
  const plaintext = await plaintextOf(ctx, parsed, request.scope, request.validate);
  const targets = await resolveTargets(ctx, { filter, parsed, multi: request.multi, upsert: request.upsert, sort: request.sort, session: request.session });
  const updates = await sealUpdate(ctx, parsed, targets, plaintext);
  const ops = targets.map((t, i) => ({ filter: t.filter, update: updates[i]! }));
  return { ops, perDocument: request.multi && targets.some((t) => !t.inserting) };
}
