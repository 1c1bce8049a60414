import { resolveSegment } from '@keystrata/core/adapter';
import { rememberSegment } from './loaded-segment.js';
import { isDocument, readPath, writePath, type Target } from './paths.js';
import { segmentInputs } from './segment-inputs.js';
import { storedValues } from './stored-values.js';
import type { ModelContext } from './state.js';

type Row = Record<string, unknown>;

const present = (v: unknown): boolean => v !== undefined && v !== null;

function rowOf(ctx: ModelContext, target: Target): Row {
  const row: Row = { ...segmentInputs(ctx, target), _id: readPath(target, '_id') };
  for (const f of ctx.spec.fields) {
    const value = readPath(target, f.path);
    if (present(value)) row[f.path] = value;
  }
  return row;
}

function remember(ctx: ModelContext, target: Target, row: Row): void {
  const policy = ctx.options.segment;
  const usesId = typeof policy === 'function' || policy.by === 'record'; // String(ObjectId) is not free
  let segment: string | undefined;
  try {
    segment = resolveSegment(policy, ctx.name, usesId && row._id != null ? String(row._id) : undefined, row);
  } catch {
    segment = undefined; // the segment inputs were not selected: a change cannot be detected from here
  }
  rememberSegment(target, segment);
}

/** True when the core can read and write a record's stored values as they are: flat paths, top-level segment fields. */
const directRows = (ctx: ModelContext): boolean => ctx.spec.flat && ctx.spec.segmentFields !== 'all' && ctx.spec.segmentFields.every((f) => !f.includes('.'));

/**
 * Decrypts the encrypted paths of documents and plain objects in place, in one batch. For a flat
 * schema the core works on the stored values directly (a lean object, or a hydrated document's
 * `_doc`: no getters, setters or change tracking, so nothing is marked modified); otherwise on a
 * copy of the values it needs, written back without setters. All or nothing: on error no target
 * is changed.
 *
 * @example
 * ```ts
 * await decryptTargets(ctx, await Patient.find().lean({ middleware: false }));
 * ```
 */
export async function decryptTargets(ctx: ModelContext, targets: readonly Target[]): Promise<void> {
  if (targets.length === 0) return;
  const direct = directRows(ctx);
  const rows: Row[] = [];
  const back: Array<{ target: Target; row: Row; copied: boolean }> = [];
  for (const target of targets) {
    const stored = direct ? storedValues(target) : undefined;
    const row = stored ?? rowOf(ctx, target);
    rows.push(row);
    if (stored === undefined || stored !== target) back.push({ target, row, copied: stored === undefined });
  }
  await ctx.records.decrypt(ctx.name, rows);
  for (const { target, row, copied } of back) {
    if (copied) for (const f of ctx.spec.fields) if (f.path in row) writePath(target, f.path, row[f.path]);
    if (isDocument(target)) remember(ctx, target, row);
  }
}
