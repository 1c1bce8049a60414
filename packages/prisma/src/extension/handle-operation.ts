import { KeystrataError } from '@keystrata/core';
import { HANDLERS } from '../operations/handlers.js';
import { unsupported } from '../query/unsupported.js';
import { clonePlain, isPlainObject, type Row } from '../util/plain.js';
import { chainExecutor, type InternalParams } from './executor.js';
import type { KeystrataRuntime } from './runtime.js';
import { sendIf } from './sent-arguments.js';

/**
 * What Prisma hands a `$allModels.$allOperations` hook (plus its internal parameters).
 *
 * @example
 * ```ts
 * const params: HookParams = { model: 'Patient', operation: 'findMany', args: {}, query };
 * ```
 */
export interface HookParams {
  readonly model?: string | undefined;
  readonly operation: string;
  readonly args: unknown;
  readonly query: (args: Row, params?: Row) => Promise<unknown>;
  readonly __internalParams?: unknown;
}

/**
 * The query hook: operations on models that reach no encrypted field pass through untouched;
 * the others are handled on a private copy of their arguments.
 *
 * @example
 * ```ts
 * query: { $allModels: { $allOperations: (params) => handleOperation(rt, params) } }
 * ```
 */
export async function handleOperation(rt: KeystrataRuntime, params: HookParams): Promise<unknown> {
  const { model, operation, query } = params;
  if (model === undefined || !rt.touches(model)) return sendIf(rt.composed, undefined, params.args as Row, query);
  const internal = params.__internalParams as InternalParams | undefined;
  if (!isPlainObject(internal) || !Array.isArray(internal.dataPath)) {
    throw new KeystrataError('CONFIG_INVALID', 'This Prisma version does not pass the request parameters @keystrata/prisma relies on (tested with Prisma 7.10).');
  }
  const handler = HANDLERS[operation];
  if (handler === undefined) throw unsupported(`${model}.${operation} is not supported on models with encrypted fields.`);
  const args = isPlainObject(params.args) ? clonePlain(params.args) : {};
  const label = `${model}.${operation}`;
  const checked = rt.composed;
  return handler({ rt, model, operation, args, query: (a) => sendIf(checked, label, a, query), internal, executor: chainExecutor(query, internal, checked) });
}
