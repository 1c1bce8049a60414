import { assertUnchanged } from './sent-arguments.js';

type Query = (args: unknown) => Promise<unknown>;
type Extendable = { $extends: (...args: unknown[]) => unknown };

const GUARD = {
  name: 'keystrata-guard',
  query: { $allModels: { $allOperations: ({ args, query }: { args: unknown; query: Query }) => (assertUnchanged(args), query(args)) } },
};

/**
 * Makes `client.$extends(…)` append Keystrata's guard after the new extension, so the guard is
 * always the innermost query extension: a query extension applied after withKeystrata runs after
 * Keystrata encrypted the arguments, and any change it makes to them (plaintext in an encrypted
 * field, a planted blind index, a dropped tenant field) is refused before the query is sent.
 *
 * @example
 * ```ts
 * const db = guardLaterExtensions(client.$extends(keystrata), () => (rt.composed = true)); // the guard comes with the next $extends
 * ```
 */
export function guardLaterExtensions<T>(client: T, onExtend: () => void): T {
  const target = client as unknown as Extendable;
  const original = target.$extends;
  Reflect.defineProperty(target, '$extends', {
    configurable: true,
    enumerable: false,
    writable: true,
    value(this: unknown, ...args: unknown[]) {
      onExtend();
      const next = original.apply(this ?? target, args) as Extendable;
      return guardLaterExtensions(next.$extends(GUARD), onExtend);
    },
  });
  return client;
}
