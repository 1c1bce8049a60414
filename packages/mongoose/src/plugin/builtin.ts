const BUILT_IN = Symbol.for('mongoose:built-in-middleware');

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
