import type { Model, Schema } from 'mongoose';
import { installAggregateHook } from './aggregate.js';
import { builtIn, hooks } from './builtin.js';
import { installBulkWriteHook } from './bulk-write.js';
import { assertPluginOptions, type KeystrataPluginOptions } from './options.js';
import { installReadHooks } from './read-hooks.js';
import { PluginState } from './state.js';
import { installUpdateHooks } from './update-hooks.js';
import { installWriteHooks } from './write-hooks.js';
import { keepKeystrataHooksLast } from './hook-order.js';
import { installInitCheck } from './init-check.js';

const states = new WeakMap<object, PluginState>();

/**
 * The Mongoose plugin: paths marked `encrypted: true` (or `encrypted: { index: 'path' }`) are
 * stored as Keystrata envelopes and read back as plaintext through ordinary Mongoose calls.
 * Paths added later with `schema.add()` are picked up; hooks registered after the plugin run
 * before Keystrata's (it keeps its own pre hooks last). Options: {@link KeystrataPluginOptions}.
 *
 * @example
 * ```ts
 * const Patient = new Schema({
 *   tenantId: String,
 *   ssn: { type: String, encrypted: true },
 *   email: { type: String, encrypted: { index: 'emailIndex' } },
 *   emailIndex: { type: String, index: true },
 * });
 * Patient.plugin(keystrata, { hierarchy, segment: { by: 'tenant', field: 'tenantId' } });
 * ```
 */
export function keystrata(schema: Schema, options: KeystrataPluginOptions): void {
  assertPluginOptions(options);
  const state = new PluginState(options);
  states.set(options, state);
  state.spec(schema); // validates the schema now; hooks are installed even without encrypted paths yet (a later schema.add())
  keepKeystrataHooksLast(schema);
  hooks(schema).pre(
    'validate',
    builtIn(function (this: { constructor: Model<any> }) {
      state.spec(this.constructor.schema ?? schema);
    }),
  );
  installReadHooks(schema, state);
  installWriteHooks(schema, state);
  installUpdateHooks(schema, state);
  installBulkWriteHook(schema, state);
  installAggregateHook(schema, state);
  installInitCheck(schema, state);
}

/**
 * The plugin state behind a schema (through the schema's plugin list, which survives cloning).
 *
 * @example
 * ```ts
 * const state = stateOf(Patient.schema); // undefined without the plugin
 * ```
 */
export function stateOf(schema: Schema): PluginState | undefined {
  const entry = (schema as unknown as { plugins?: Array<{ fn: unknown; opts: object }> }).plugins?.find((p) => p.fn === keystrata);
  return entry === undefined ? undefined : states.get(entry.opts);
}
