import { RecordEncryptor, type FieldValue, type ModelSpec, type SegmentPolicy } from '@keystrata/core/adapter';
import type { FieldMap, FieldMapModel } from '../field-map/types.js';
import type { Row } from '../util/plain.js';
import { assertOptions, hierarchyOf, type KeystrataPrismaOptions } from './options.js';
import { decryptRawRows } from '../result/decrypt-raw.js';

function reachingModels(map: FieldMap): Set<string> {
  const reach = new Set(Object.keys(map.models).filter((name) => map.models[name]!.encrypted.length > 0));
  for (let grew = true; grew; ) {
    grew = false;
    for (const [name, model] of Object.entries(map.models)) {
      if (!reach.has(name) && Object.values(model.relations).some((r) => reach.has(r.model))) grew = reach.add(name).size > 0;
    }
  }
  return reach;
}

const NO_SINGLE_ID = '\u0000no-single-id';

/**
 * The state of one `withKeystrata` client, reachable as `db.$keystrata`: the core
 * RecordEncryptor configured from the field map, the field map itself, and the client under the
 * extension (`base`, which sees ciphertext: use it only for key maintenance).
 *
 * @example
 * ```ts
 * const plain = await db.$keystrata.decryptRow('Patient', rawRow);
 * const index = await db.$keystrata.indexFor('Patient', 'email', 'a@b.c');
 * ```
 */
export class KeystrataRuntime {
  readonly records: RecordEncryptor;
  readonly fieldMap: FieldMap;
  readonly policy: SegmentPolicy;
  readonly prefetch: boolean;
  readonly bindRecordId: boolean;
  readonly keyring: string | undefined;
  readonly base: unknown;
  readonly #reach: ReadonlySet<string>;
  /** Relation field names per model, computed once (the write walk reads them per row). */
  readonly #relationNames: ReadonlyMap<string, readonly string[]>;
  #composed = false;

  constructor(options: KeystrataPrismaOptions, base: unknown) {
    assertOptions(options);
    const models: Record<string, ModelSpec> = {};
    for (const [name, model] of Object.entries(options.fieldMap.models)) {
      if (model.encrypted.length > 0) models[name] = { fields: model.encrypted, idField: model.id?.field ?? NO_SINGLE_ID };
    }
    this.records = new RecordEncryptor({
      hierarchy: hierarchyOf(options),
      models,
      segment: options.segment,
      bindRecordId: options.bindRecordId ?? true,
      // Database-assigned ids are unknown at create: those values stay unbound until an update (README).
      withoutRecordId: 'seal-unbound',
      onUnreadable: options.onUnreadable ?? 'throw',
      ...(options.keyring === undefined ? {} : { keyring: options.keyring }),
    });
    this.fieldMap = options.fieldMap;
    this.policy = options.segment;
    this.prefetch = options.prefetch ?? true;
    this.bindRecordId = options.bindRecordId ?? true;
    this.keyring = typeof options.keyring === 'string' ? options.keyring : undefined;
    this.base = base;
    this.#reach = reachingModels(options.fieldMap);
    this.#relationNames = new Map(Object.entries(options.fieldMap.models).map(([name, model]) => [name, Object.keys(model.relations)]));
  }

  /**
   * Whether a client extension was applied after this one (then every operation's arguments are
   * fingerprinted so the innermost guard can refuse changes made after encryption; before that
   * there is nothing between Keystrata and the guard, and nothing to check).
   */
  get composed(): boolean {
    return this.#composed;
  }

  /** Called when a client of this runtime is extended further. */
  markComposed(): void {
    this.#composed = true;
  }

  /** The field-map entry of a model (undefined for models the map does not know). */
  model(name: string): FieldMapModel | undefined {
    return this.fieldMap.models[name];
  }

  /** The relation fields of a model (empty for models the map does not know). */
  relationNames(model: string): readonly string[] {
    return this.#relationNames.get(model) ?? [];
  }

  /** The tenant field of a `{ by: 'tenant' }` policy. */
  get tenantField(): string | undefined {
    return typeof this.policy === 'object' && this.policy.by === 'tenant' ? this.policy.field : undefined;
  }

  /** Whether the segment policy is a function (its inputs are unknown to Keystrata). */
  get functionPolicy(): boolean {
    return typeof this.policy === 'function';
  }

  /** Fields encrypting and decrypting need beside the values: the record id (when bound or per-record) and the tenant field. */
  contextFields(model: string): string[] {
    const entry = this.model(model);
    if (entry === undefined || entry.encrypted.length === 0) return [];
    const tenant = this.tenantField;
    const perRecord = typeof this.policy === 'object' && this.policy.by === 'record';
    return [...(entry.id && (this.bindRecordId || perRecord) ? [entry.id.field] : []), ...(tenant !== undefined && entry.scalars[tenant] !== undefined ? [tenant] : [])];
  }

  /** Whether a model or any model reachable through its relations has encrypted fields. */
  touches(model: string): boolean {
    return this.#reach.has(model);
  }

  /** Decrypts the marked fields of raw rows (e.g. from `$queryRaw`), returning copies. */
  decryptRow<T extends Row | readonly Row[]>(model: string, rows: T): Promise<T> {
    return decryptRawRows(this, model, rows);
  }

  /** The blind index to look `model.field = value` up by hand (e.g. in `$queryRaw`). */
  indexFor(model: string, field: string, value: FieldValue): Promise<string> {
    return this.records.indexFor(model, field, value);
  }
}
