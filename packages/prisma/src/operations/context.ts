import type { Executor, InternalParams } from '../extension/executor.js';
import type { KeystrataRuntime } from '../extension/runtime.js';
import type { Row } from '../util/plain.js';

/**
 * One intercepted model operation: the runtime, a private copy of its arguments, the rest of
 * the extension chain (`query`) and an executor for extra queries in the same transaction.
 *
 * @example
 * ```ts
 * const result = await handlers[op.operation]!(op);
 * ```
 */
export interface Operation {
  readonly rt: KeystrataRuntime;
  readonly model: string;
  readonly operation: string;
  readonly args: Row;
  readonly query: (args: Row) => Promise<unknown>;
  readonly internal: InternalParams;
  readonly executor: Executor;
}

/**
 * A handler of one kind of operation.
 *
 * @example
 * ```ts
 * const handler: OperationHandler = async (op) => op.query(op.args);
 * ```
 */
export type OperationHandler = (op: Operation) => Promise<unknown>;

/**
 * The label used in error messages (`Patient.findMany`).
 *
 * @example
 * ```ts
 * labelOf(op); // 'Patient.findMany'
 * ```
 */
export function labelOf(op: Pick<Operation, 'model' | 'operation'>): string {
  return `${op.model}.${op.operation}`;
}
