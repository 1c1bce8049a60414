import type { Document } from 'mongoose';
import { equalities } from './filter-values.js';
import { getPath } from './paths.js';
import type { ParsedUpdate } from './update-parse.js';
import type { ModelContext } from './state.js';

type Obj = Record<string, unknown>;

/** One document an update will write, with what its encrypted values are bound to. */
export interface UpdateTarget {
  /** The document's `_id` (undefined only when nothing needs it). */
  readonly id: unknown;
  /** Segment inputs when the document exists (or is inserted): for `$set` values. */
  readonly record: Obj;
  /** Segment inputs of the document an upsert inserts: for `$setOnInsert` values. */
  readonly insertRecord: Obj;
  /** The filter pinned to this document's `_id`, so the write cannot land elsewhere. */
  readonly filter: Obj;
  /** True when no matching document was found and an upsert will insert this one. */
  readonly inserting: boolean;
}

/** What an update operation asks for. */
export interface UpdateShape {
  readonly filter: Obj;
  readonly parsed: ParsedUpdate;
  readonly multi: boolean;
  readonly upsert: boolean;
  readonly sort?: unknown;
  readonly session?: unknown;
}

const needsId = (ctx: ModelContext): boolean => ctx.options.bindRecordId !== false || (typeof ctx.options.segment !== 'function' && ctx.options.segment.by === 'record');

function fromFetched(ctx: ModelContext, doc: Obj, shape: UpdateShape): UpdateTarget {
  const fields = ctx.spec.segmentFields;
  const base = fields === 'all' ? doc : Object.fromEntries(fields.map((f) => [f, getPath(doc, f)]));
  const record = { ...base, ...shape.parsed.plainSet };
  return { id: doc._id, record, insertRecord: record, filter: { ...shape.filter, _id: doc._id }, inserting: false };
}

function forInsert(shape: UpdateShape, id: unknown, inserting: boolean): UpdateTarget {
  const record = { ...equalities(shape.filter), ...shape.parsed.plainSet };
  const filter = id === undefined ? shape.filter : { ...shape.filter, _id: id };
  return { id, record, insertRecord: { ...record, ...shape.parsed.plainSetOnInsert }, filter, inserting };
}

/**
 * Finds what an update's encrypted values must be bound to. A single-document update whose filter
 * pins `_id` and the segment fields needs no read; otherwise the matching documents' `_id` and
 * segment fields are fetched (the whole document for a function policy) and each write is pinned
 * to its `_id`. An upsert that inserts gets its `_id` chosen here (filter, replacement, or a new one).
 * Returns no target when nothing matches and no upsert: the write is then skipped.
 *
 * @example
 * ```ts
 * const targets = await resolveTargets(ctx, { filter, parsed, multi: true, upsert: false });
 * ```
 */
export async function resolveTargets(ctx: ModelContext, shape: UpdateShape): Promise<UpdateTarget[]> {
  const eq = equalities(shape.filter);
  const replacementId = shape.parsed.replacement ? shape.parsed.update._id : undefined;
  const fields = ctx.spec.segmentFields;
  const known = fields !== 'all' && fields.every((f) => f in eq || f in shape.parsed.plainSet);
  const id = eq._id ?? replacementId;
  if (!shape.multi && known && (id !== undefined || !needsId(ctx))) return [forInsert(shape, id, false)];
  const projection = fields === 'all' ? undefined : Object.fromEntries(['_id', ...fields].map((f) => [f, 1]));
  const options = { session: shape.session, ...(shape.sort === undefined ? {} : { sort: shape.sort }) } as never;
  const found = shape.multi
    ? await ctx.model.find(shape.filter as never, projection, options).lean<Obj[]>()
    : [await ctx.model.findOne(shape.filter as never, projection, options).lean<Obj>()].filter((d): d is Obj => d !== null);
  if (found.length > 0) return found.map((doc) => fromFetched(ctx, doc, shape));
  if (!shape.upsert) return [];
  return [forInsert(shape, id ?? (needsId(ctx) ? (new ctx.model() as Document)._id : undefined), true)];
}
