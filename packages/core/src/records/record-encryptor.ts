import { isEnvelope } from '../envelope/envelope-format.js';
import type { FieldContext } from '../envelope/field-context.js';
import type { FieldValue } from '../envelope/value-codec.js';
import { KeystrataError } from '../errors/keystrata-error.js';
import type { KeyHierarchy } from '../hierarchy/key-hierarchy.js';
import { assertSegmentPolicy, resolveSegment, type SegmentPolicy } from './segment-policy.js';
import { UnreadableValue } from './unreadable-value.js';

/** One encrypted field of a model; `index` names the column holding its blind index. */
export interface EncryptedFieldSpec {
  readonly field: string;
  readonly index?: string | undefined;
}

/** The encrypted fields of one model (table, entity or collection). */
export interface ModelSpec {
  readonly fields: readonly EncryptedFieldSpec[];
  /** Primary-key field, bound into the AAD when known (default `id`). */
  readonly idField?: string;
}

/** Options for {@link RecordEncryptor}, validated once. */
export interface RecordEncryptorOptions {
  readonly hierarchy: KeyHierarchy;
  /** Encrypted fields per model name. */
  readonly models: Readonly<Record<string, ModelSpec>>;
  readonly segment: SegmentPolicy;
  /** Bind the record id into each value's AAD when the id is known at write time (default true). */
  readonly bindRecordId?: boolean;
  /** On a value that cannot be decrypted: throw (default) or put an {@link UnreadableValue} in its place. */
  readonly onUnreadable?: 'throw' | 'placeholder';
  /**
   * Keyring (CMK + KEK) of the records: a name, or a function of the record for a CMK per tenant
   * (default: the hierarchy's). Blind indexes always use `indexKeyring`, so lookups work across keyrings.
   */
  readonly keyring?: string | ((args: { readonly model: string; readonly record: Readonly<Record<string, unknown>> }) => string);
  /** Keyring whose blind-index key serves equality lookups (default: `keyring` if a name, else the hierarchy's). */
  readonly indexKeyring?: string;
}

type Row = Record<string, unknown>;

/**
 * The record-level logic every ORM adapter shares: encrypt the marked fields of records (filling
 * blind indexes), decrypt them back, compute lookup indexes. Adapters only find the records.
 *
 * @example
 * ```ts
 * const records = new RecordEncryptor({ hierarchy, models: { Patient: { fields: [{ field: 'ssn' }] } }, segment: { by: 'tenant', field: 'tenantId' } });
 * await records.encrypt('Patient', [row]); // row.ssn is now "ks1.…"
 * await records.decrypt('Patient', [row]);
 * ```
 */
export class RecordEncryptor {
  readonly hierarchy: KeyHierarchy;
  readonly #models: ReadonlyMap<string, ModelSpec>;
  readonly #segment: SegmentPolicy;
  readonly #bind: boolean;
  readonly #placeholder: boolean;
  readonly #keyring: RecordEncryptorOptions['keyring'];
  readonly #indexKeyring: string | undefined;

  constructor(options: RecordEncryptorOptions) {
    if (typeof options?.hierarchy?.encryptValues !== 'function') throw new KeystrataError('CONFIG_INVALID', 'hierarchy must be a KeyHierarchy.');
    assertSegmentPolicy(options.segment);
    for (const [model, spec] of Object.entries(options.models ?? {})) {
      if (!Array.isArray(spec?.fields) || spec.fields.some((f) => typeof f?.field !== 'string' || f.field === '')) {
        throw new KeystrataError('CONFIG_INVALID', `models.${model}.fields must list { field, index? } entries.`);
      }
    }
    this.hierarchy = options.hierarchy;
    this.#models = new Map(Object.entries(options.models ?? {}));
    this.#segment = options.segment;
    this.#bind = options.bindRecordId ?? true;
    this.#placeholder = options.onUnreadable === 'placeholder';
    if (options.keyring !== undefined && typeof options.keyring !== 'string' && typeof options.keyring !== 'function') {
      throw new KeystrataError('CONFIG_INVALID', 'keyring must be a keyring name or a function of the record.');
    }
    this.#keyring = options.keyring;
    this.#indexKeyring = options.indexKeyring ?? (typeof options.keyring === 'string' ? options.keyring : undefined);
  }

  /** The spec of a model, or undefined when it has no encrypted fields. */
  spec(model: string): ModelSpec | undefined {
    return this.#models.get(model);
  }

  /** Whether `model.field` is encrypted. */
  isEncrypted(model: string, field: string): boolean {
    return this.#models.get(model)?.fields.some((f) => f.field === field) ?? false;
  }

  /** The encrypted field whose blind index lives in column `index`, if any. */
  fieldForIndex(model: string, index: string): EncryptedFieldSpec | undefined {
    return this.#models.get(model)?.fields.find((f) => f.index === index);
  }

  #context(model: string, field: string, id: string | undefined, segment: string | undefined, keyring?: string): FieldContext {
    return { model, field, recordId: this.#bind ? id : undefined, segment, keyring };
  }

  #keyringOf(model: string, record: Row): string | undefined {
    return typeof this.#keyring === 'function' ? this.#keyring({ model, record }) : this.#keyring;
  }

  #indexScope(): { keyring?: string } {
    return this.#indexKeyring === undefined ? {} : { keyring: this.#indexKeyring };
  }

  #id(model: string, row: Row): string | undefined {
    const value = row[this.#models.get(model)?.idField ?? 'id'];
    return value === undefined || value === null ? undefined : String(value);
  }

  /**
   * Replaces each marked field's plaintext with an envelope and fills its blind-index field, in
   * place. `segmentSource` supplies segment fields a partial update does not carry. Null and
   * undefined stay as they are. All or nothing: on error no record is changed.
   */
  async encrypt(model: string, rows: readonly Row[], segmentSource?: (row: Row, index: number) => Row): Promise<void> {
    const spec = this.#models.get(model);
    if (spec === undefined || rows.length === 0) return;
    const items: Array<{ value: FieldValue; context: FieldContext }> = [];
    const targets: Array<{ row: Row; field: string; index?: string | undefined }> = [];
    rows.forEach((row, i) => {
      const present = spec.fields.filter((f) => row[f.field] !== undefined && row[f.field] !== null);
      if (present.length === 0) return;
      const id = this.#id(model, row);
      const record = segmentSource ? { ...segmentSource(row, i), ...row } : row;
      const segment = resolveSegment(this.#segment, model, id, record);
      const keyring = this.#keyringOf(model, record);
      for (const f of present) {
        if (isEnvelope(row[f.field])) throw new KeystrataError('PLAINTEXT_REJECTED', `${model}.${f.field} already holds an envelope; write plaintext, the adapter encrypts it.`);
        if (UnreadableValue.isInstance(row[f.field])) throw new KeystrataError('PLAINTEXT_REJECTED', `${model}.${f.field} holds an UnreadableValue placeholder, which is never written.`);
        items.push({ value: row[f.field] as FieldValue, context: this.#context(model, f.field, id, segment, keyring) });
        targets.push({ row, field: f.field, index: f.index });
      }
    });
    if (items.length === 0) return;
    const [sealed, indexes] = await Promise.all([
      this.hierarchy.encryptValues(items),
      this.hierarchy.blindIndexes(items.flatMap((item, i) => (targets[i]!.index ? [{ value: item.value, model, field: targets[i]!.field, ...this.#indexScope() }] : []))),
    ]);
    let n = 0;
    targets.forEach((t, i) => {
      if (t.index) t.row[t.index] = indexes[n++];
      t.row[t.field] = sealed[i];
    });
  }

  /**
   * Decrypts each marked field in place. A stored value that is not an envelope is an error
   * (CIPHERTEXT_MALFORMED), never plaintext. With `onUnreadable: 'placeholder'` unreadable values
   * become {@link UnreadableValue}s instead of throwing.
   */
  async decrypt(model: string, rows: readonly Row[]): Promise<void> {
    const spec = this.#models.get(model);
    if (spec === undefined || rows.length === 0) return;
    const items: Array<{ ciphertext: unknown; context: FieldContext }> = [];
    const targets: Array<{ row: Row; field: string }> = [];
    for (const row of rows) {
      const present = spec.fields.filter((f) => row[f.field] !== undefined && row[f.field] !== null);
      if (present.length === 0) continue;
      const id = this.#id(model, row);
      let segment: string | undefined;
      try {
        segment = resolveSegment(this.#segment, model, id, row);
      } catch {
        segment = undefined; // the row was selected without its segment field: the DEK check still binds the value
      }
      for (const f of present) {
        items.push({ ciphertext: row[f.field], context: this.#context(model, f.field, id, segment) });
        targets.push({ row, field: f.field });
      }
    }
    if (items.length === 0) return;
    const results = await this.hierarchy.decryptValuesSettled(items);
    const failure = results.find((r) => !r.ok);
    if (failure !== undefined && !failure.ok && !this.#placeholder) throw failure.error;
    results.forEach((r, i) => {
      targets[i]!.row[targets[i]!.field] = r.ok ? r.value : new UnreadableValue(r.error.code);
    });
  }

  /** The blind index to look up `model.field = value`. */
  async indexFor(model: string, field: string, value: FieldValue): Promise<string> {
    return this.hierarchy.blindIndex(value, { model, field, ...this.#indexScope() });
  }

  /** Blind indexes for `model.field IN (values)`. */
  async indexesFor(model: string, field: string, values: readonly FieldValue[]): Promise<string[]> {
    return this.hierarchy.blindIndexes(values.map((value) => ({ value, model, field, ...this.#indexScope() })));
  }
}
