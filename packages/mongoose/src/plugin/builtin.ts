const BUILT_IN = Symbol.for('mongoose:built-in-middleware');
/** Marks Keystrata's own hooks (kept after the application's pre hooks, see hook-order.ts). */
export const KEYSTRATA_HOOK = Symbol.for('keystrata.mongoose.hook');

/**
 * Marks a hook as built-in middleware, so `{ middleware: false }` cannot switch encryption off
 * (Mongoose keeps built-in hooks when an operation skips user middleware).
 *
 * @example
 * ```ts
 * schema.pre('save', builtIn(async function () { … }));
 * ```
 */
export function builtIn<T extends (...args: never[]) => unknown>(fn: T): T {
  Object.defineProperty(fn, BUILT_IN, { value: true });
  Object.defineProperty(fn, KEYSTRATA_HOOK, { value: true });
  return fn;
}

/** The hook registration of a schema without Mongoose's per-hook overloads (which reject `this` types a plugin needs). */
export interface HookRegistry {
  pre(name: string | readonly string[], ...args: unknown[]): unknown;
  post(name: string | readonly string[], ...args: unknown[]): unknown;
}

/**
 * The schema's hook registration, loosely typed.
 *
 * @example
 * ```ts
 * hooks(schema).pre('save', builtIn(async function () { … }));
 * ```
 */
export const hooks = (schema: unknown): HookRegistry => schema as HookRegistry;
