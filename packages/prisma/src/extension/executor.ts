import type { Row } from '../util/plain.js';
import { delegateName } from '../util/keys.js';
import { sendIf } from './sent-arguments.js';

/**
 * Runs the extra queries Keystrata needs (context lookups, per-row updates).
 *
 * @example
 * ```ts
 * const row = await executor.run('Patient', 'findUnique', { where: { id }, select: { tenantId: true } });
 * ```
 */
export interface Executor {
  run(model: string, action: string, args: Row): Promise<unknown>;
}

/**
 * Prisma's internal request parameters (`__internalParams`), as far as Keystrata reads them.
 *
 * @example
 * ```ts
 * const internal = params.__internalParams as InternalParams; internal.dataPath; // ['select', 'posts'] for a fluent read
 * ```
 */
export interface InternalParams extends Row {
  readonly dataPath: readonly string[];
  readonly transaction?: { readonly kind: string } | undefined;
}

type Query = (args: Row, params?: Row) => Promise<unknown>;

/**
 * Runs extra queries through the rest of the extension chain with the operation's own request
 * parameters, so inside an interactive transaction they run in that transaction. Inside a
 * batch `$transaction([...])` they run before the batch, outside it. With `checked`, their
 * arguments are checked by the innermost guard like the operation's own.
 *
 * @example
 * ```ts
 * const executor = chainExecutor(query, __internalParams);
 * ```
 */
export function chainExecutor(query: Query, internal: InternalParams, checked = false): Executor {
  return {
    run(model, action, args) {
      const name = delegateName(model);
      const params: Row = { ...internal, args, action, model, jsModelName: name, clientMethod: `${name}.${action}`, dataPath: [], unpacker: undefined, argsMapper: undefined };
      if (internal.transaction?.kind === 'batch') delete params.transaction;
      return sendIf(checked, `${model}.${action}`, args, (a) => query(a, params));
    },
  };
}

/**
 * Runs extra queries on a client's model delegates (e.g. the `tx` of a transaction Keystrata
 * opened itself).
 *
 * @example
 * ```ts
 * await base.$transaction((tx) => work(delegateExecutor(tx)));
 * ```
 */
export function delegateExecutor(client: unknown): Executor {
  return {
    run(model, action, args) {
      const delegate = (client as Record<string, Record<string, (a: Row) => Promise<unknown>>>)[delegateName(model)]!;
      return delegate[action]!(args);
    },
  };
}
