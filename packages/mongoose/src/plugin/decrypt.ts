import { resolveSegment } from '@keystrata/core';
import { isDocument, readPath, writePath, type Target } from './paths.js';
import { segmentInputs } from './segment-inputs.js';
import type { ModelContext } from './state.js';

type Row = Record<string, unknown>;

/** The segment each hydrated document had when it was read, to notice a segment change on save. */
export const loadedSegments = new WeakMap<object, string>();

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
  try {
    loadedSegments.set(target, resolveSegment(ctx.options.segment, ctx.name, row._id == null ? undefined : String(row._id), row));
  } catch {
    loadedSegments.delete(target); // the segment inputs were not selected: a change cannot be detected from here
  }
}

/**
 * Decrypts the encrypted paths of documents and plain objects in place, in one batch. Lean
 * results of a flat schema are decrypted directly; hydrated documents get plaintext without
 * setters or change tracking. All or nothing: on error no target is changed.
 *
 * @example
 * ```ts
 * await decryptTargets(ctx, await Patient.find().lean({ middleware: false }));
 * ```
 */
export async function decryptTargets(ctx: ModelContext, targets: readonly Target[]): Promise<void> {
  if (targets.length === 0) return;
  const direct = ctx.spec.flat && ctx.spec.segmentFields !== 'all' && ctx.spec.segmentFields.every((f) => !f.includes('.'));
  const rows: Row[] = [];
  const back: Array<[Target, Row]> = [];
  for (const target of targets) {
    if (direct && !isDocument(target)) rows.push(target as Row);
    else {
      const row = rowOf(ctx, target);
      rows.push(row);
      back.push([target, row]);
    }
  }
  await ctx.records.decrypt(ctx.name, rows);
  for (const [target, row] of back) {
    for (const f of ctx.spec.fields) if (f.path in row) writePath(target, f.path, row[f.path]);
    if (isDocument(target)) remember(ctx, target, row);
  }
}
