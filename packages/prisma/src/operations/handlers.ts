import { aggregate } from './aggregate.js';
import type { OperationHandler } from './context.js';
import { create } from './create.js';
import { remove } from './delete.js';
import { read } from './read.js';
import { update } from './update.js';
import { updateMany } from './update-many.js';

/**
 * The handler of every model operation Keystrata supports; any other operation on a model
 * that reaches encrypted fields is refused (QUERY_UNSUPPORTED) rather than passed through.
 *
 * @example
 * ```ts
 * const handler = HANDLERS.findMany; // read
 * ```
 */
export const HANDLERS: Readonly<Record<string, OperationHandler>> = {
  findUnique: read,
  findUniqueOrThrow: read,
  findFirst: read,
  findFirstOrThrow: read,
  findMany: read,
  count: aggregate,
  aggregate,
  groupBy: aggregate,
  create,
  createMany: create,
  createManyAndReturn: create,
  update,
  upsert: update,
  updateMany,
  updateManyAndReturn: updateMany,
  delete: remove,
  deleteMany: remove,
};
