import { resolveSegment } from '@keystrata/core/adapter';
import type { Document } from 'mongoose';
import { unsupported } from '../errors.js';
import { loadedSegment } from './loaded-segment.js';
import { readPath } from './paths.js';
import { segmentInputs } from './segment-inputs.js';
import { readStored } from './stored-values.js';
import type { ModelContext } from './state.js';

function segmentChanged(ctx: ModelContext, doc: Document): boolean {
  const fields = ctx.spec.segmentFields;
  if (fields !== 'all' && fields.some((f) => doc.isModified(f))) return true;
  const loaded = loadedSegment(doc);
  if (loaded === undefined) return false;
  try {
    return resolveSegment(ctx.options.segment, ctx.name, String(readPath(doc, '_id')), segmentInputs(ctx, doc)) !== loaded;
  } catch {
    return true;
  }
}

/**
 * The encrypted paths a save must seal: every set one when the document is new or moves to another
 * segment (all must be loaded then), else the modified ones.
 *
 * @example
 * ```ts
 * pathsToSeal(ctx, doc); // ['ssn'] after doc.ssn = '…'
 * ```
 */
export function pathsToSeal(ctx: ModelContext, doc: Document): string[] {
  const paths = ctx.spec.fields.map((f) => f.path);
  if (doc.isNew) return paths.filter((p) => readStored(doc, p) !== undefined);
  if (!segmentChanged(ctx, doc)) return paths.filter((p) => doc.isModified(p));
  const missing = paths.find((p) => !doc.isSelected(p));
  if (missing !== undefined)
    throw unsupported(`${ctx.name}.${missing}`, 'changing the segment of a partly loaded document', 'Load every encrypted path (no projection) so all of them are re-encrypted under the new segment.');
  return paths.filter((p) => readPath(doc, p) !== undefined || doc.isModified(p));
}
