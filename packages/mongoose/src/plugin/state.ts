import type { KeyHierarchy } from '@keystrata/core';
import { RecordEncryptor } from '@keystrata/core/adapter';
import type { Model, Schema } from 'mongoose';
import type { KeystrataPluginOptions } from './options.js';
import { guardSchema } from './guards.js';
import { scanSchema, type SchemaSpec } from './schema-spec.js';

/** Everything one operation needs: the model's AAD name, its schema spec and the record encryptor. */
export interface ModelContext {
  readonly options: KeystrataPluginOptions;
  readonly model: Model<any>;
  readonly name: string;
  readonly schema: Schema;
  readonly spec: SchemaSpec;
  readonly records: RecordEncryptor;
  readonly hierarchy: KeyHierarchy;
}

const changed = (before: readonly unknown[], now: readonly unknown[]): boolean => before.length !== now.length || before.some((type, i) => type !== now[i]);

/**
 * The state of one `schema.plugin(keystrata, options)` call: schema specs per schema object (a
 * model may run on a clone) and one {@link RecordEncryptor} per model name.
 *
 * @example
 * ```ts
 * const state = new PluginState(options);
 * const ctx = await state.context(Patient);
 * ```
 */
export class PluginState {
  readonly options: KeystrataPluginOptions;
  readonly #specs = new WeakMap<Schema, { spec: SchemaSpec; paths: readonly unknown[] }>();
  readonly #encryptors = new Map<string, WeakMap<SchemaSpec, RecordEncryptor>>();

  constructor(options: KeystrataPluginOptions) {
    this.options = options;
  }

  /**
   * The spec of `schema`, scanned again whenever its paths changed (a `schema.add()` after the
   * plugin, issue 12); guards are re-applied each time (cheap and idempotent).
   */
  spec(schema: Schema): SchemaSpec {
    let entry = this.#specs.get(schema);
    if (entry === undefined || changed(entry.paths, Object.values(schema.paths))) {
      const spec = scanSchema(schema, this.options.segment);
      this.#specs.set(schema, (entry = { spec, paths: Object.values(schema.paths) }));
    }
    guardSchema(schema, entry.spec);
    return entry.spec;
  }

  /** The context of an operation on `model`. */
  async context(model: Model<any>): Promise<ModelContext> {
    const schema = model.schema;
    const spec = this.spec(schema);
    const name = this.options.model ?? (model as unknown as { baseModelName?: string }).baseModelName ?? model.modelName;
    const hierarchy = await this.options.hierarchy;
    let bySpec = this.#encryptors.get(name);
    if (bySpec === undefined) this.#encryptors.set(name, (bySpec = new WeakMap()));
    // One encryptor per spec: a discriminator (or a schema.add()) has other paths than its base (issue 12).
    let records = bySpec.get(spec);
    if (records === undefined || records.hierarchy !== hierarchy) {
      records = new RecordEncryptor({
        hierarchy,
        segment: this.options.segment,
        bindRecordId: this.options.bindRecordId ?? true,
        models: { [name]: { fields: spec.fields.map((f) => ({ field: f.path, index: f.index })), idField: '_id' } },
        ...(this.options.onUnreadable ? { onUnreadable: this.options.onUnreadable } : {}),
        ...(this.options.keyring ? { keyring: this.options.keyring } : {}),
      });
      bySpec.set(spec, records);
    }
    return { options: this.options, model, name, schema, spec, records, hierarchy };
  }
}
