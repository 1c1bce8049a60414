import { KEYSTRATA_HOOK } from './builtin.js';

type Pre = { fn?: { [KEYSTRATA_HOOK]?: true } };
type Hooks = { _pres: Map<string, Pre[]> };
type HooksProto = { clone(this: Hooks): Hooks; merge(this: Hooks, ...args: unknown[]): Hooks; filter(this: Hooks, ...args: unknown[]): Hooks };

const PATCHED = Symbol.for('keystrata.mongoose.hookOrder');

/** Moves Keystrata's pre hooks after every other pre hook of the same name (stable otherwise). */
function keystrataLast(hooks: Hooks): Hooks {
  for (const [name, pres] of hooks._pres) {
    if (!pres.some((p) => p.fn?.[KEYSTRATA_HOOK] === true)) continue;
    hooks._pres.set(name, [...pres.filter((p) => p.fn?.[KEYSTRATA_HOOK] !== true), ...pres.filter((p) => p.fn?.[KEYSTRATA_HOOK] === true)]);
  }
  return hooks;
}

/**
 * Keeps Keystrata's pre hooks last (issue 12): Mongoose copies a schema's hooks into the model
 * when it compiles it (and merges them into discriminators), so whenever the hook registry of a
 * schema is cloned, filtered or merged, Keystrata's pre hooks are moved after the application's. A
 * `pre('save')` or `pre('updateOne')` registered after the plugin that sets an encrypted path then
 * runs before Keystrata encrypts, instead of after. Patches the registry class once per process;
 * registries without Keystrata hooks are unchanged.
 *
 * @example
 * ```ts
 * keepKeystrataHooksLast(schema); // in the plugin
 * ```
 */
export function keepKeystrataHooksLast(schema: unknown): void {
  const hooks = (schema as { s?: { hooks?: object } }).s?.hooks;
  if (hooks === undefined) return;
  const proto = Object.getPrototypeOf(hooks) as HooksProto & { [PATCHED]?: true };
  if (proto[PATCHED] === true || typeof proto.clone !== 'function' || typeof proto.merge !== 'function' || typeof proto.filter !== 'function') return;
  const clone = proto.clone;
  const merge = proto.merge;
  const filter = proto.filter;
  proto.clone = function (this: Hooks) {
    return keystrataLast(clone.call(this));
  };
  proto.merge = function (this: Hooks, ...args: unknown[]) {
    return keystrataLast(merge.apply(this, args));
  };
  proto.filter = function (this: Hooks, ...args: unknown[]) {
    return keystrataLast(filter.apply(this, args));
  };
  Object.defineProperty(proto, PATCHED, { value: true });
}
