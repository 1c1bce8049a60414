import { isEnvelope } from '../envelope/envelope-format.js';
import type { FieldContext } from '../envelope/field-context.js';
import type { FieldValue } from '../envelope/value-codec.js';
import { KeystrataError } from '../errors/keystrata-error.js';
import type { DecryptItem, EncryptItem, KeyHierarchy } from '../hierarchy/key-hierarchy.js';
import type { BlindIndexItem } from '../blind-index/field-groups.js';
import { assertSegmentPolicy, resolveSegment, type SegmentPolicy } from './segment-policy.js';
import { UnreadableValue } from './unreadable-value.js';

/**
 * One encrypted field of a model; `index` names the column holding its blind index.
 *
 * @example
 * ```ts
 * const ssn: EncryptedFieldSpec = { field: 'ssn' };
 * const email: EncryptedFieldSpec = { field: 'email', index: 'emailIndex' }; // blind index kept in column emailIndex
 * ```
 */
export interface EncryptedFieldSpec {
  readonly field: string;
  readonly index?: string | undefined;
}

/**
 * The encrypted fields of one model (table, entity or collection).
 *
 * @example
 * ```ts
 * const patient: ModelSpec = { fields: [{ field: 'ssn' }, { field: 'email', index: 'emailIndex' }], idField: 'patientId' };
 * const records = new RecordEncryptor({ hierarchy, models: { Patient: patient }, segment: { by: 'record' } });
 * ```
 */
export interface ModelSpec {
  readonly fields: readonly EncryptedFieldSpec[];
  /** Primary-key field, bound into the AAD when known (default `id`). */
  readonly idField?: string;
}

/**
 * Options for {@link RecordEncryptor}, validated once.
 *
 * @example
 * ```ts
 * const options: RecordEncryptorOptions = {
 *   hierarchy,
 *   models: { Patient: { fields: [{ field: 'ssn' }, { field: 'email', index: 'emailIndex' }] } },
 *   segment: { by: 'tenant', field: 'tenantId' },
 *   keyring: ({ record }) => `tenant-${record.tenantId}`, // a CMK per tenant, each provisioned first
 *   onUnreadable: 'placeholder',
 * };
 * const records = new RecordEncryptor(options);
 * ```
 */
export interface RecordEncryptorOptions {
  readonly hierarchy: KeyHierarchy;
  /** Encrypted fields per model name. */
  readonly models: Readonly<Record<string, ModelSpec>>;
  readonly segment: SegmentPolicy;
  /**
   * Bind the record id into each value's AAD (default true): a value copied into another record
   * does not decrypt. A record written without its id is then refused (see `withoutRecordId`).
   */
  readonly bindRecordId?: boolean;
  /**
   * With `bindRecordId` on, what a record written without its id gets: `'refuse'` (default,
   * `PLAINTEXT_REJECTED` naming the id field: generate ids before writing) or `'seal-unbound'`
   * (its values are bound to model, field and segment only, so a DBA can copy them into another
   * record of the segment; for adapters whose database assigns ids at insert and binds them on
   * a later update).
   */
  readonly withoutRecordId?: 'refuse' | 'seal-unbound';
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

/** A record written without its id while values are bound to record ids: sealing it unbound would let a DBA move it. */
const missingId = (model: string, spec: ModelSpec): KeystrataError =>
  new KeystrataError(
    'PLAINTEXT_REJECTED',
    `${model} records must be written with their id field "${spec.idField ?? 'id'}": with bindRecordId on (the default) every encrypted value is bound to its record's id, and a value sealed without one could be copied into another record unnoticed. Generate the id before writing (e.g. a UUID), or set withoutRecordId: "seal-unbound" or bindRecordId: false.`,
    { details: { model, field: spec.idField ?? 'id' } },
  );

/**
 * One record's plaintexts for {@link RecordEncryptor.sealRecords}.
 *
 * @example
 * ```ts
 * const input: RecordValues = { values: { ssn: '123-45-6789' }, id: 'p1', record: { tenantId: 'acme' } };
 * const [sealed] = await records.sealRecords('Patient', [input]); // sealed.ssn: 'ks1.…'
 * ```
 */
export interface RecordValues {
  /** Plaintexts by field (fields the model does not encrypt are ignored; null and undefined are skipped). */
  readonly values: Readonly<Row>;
  /** The record id bound into the AAD; undefined when not known at write time (refused unless `withoutRecordId: 'seal-unbound'` or binding is off). */
  readonly id: string | undefined;
  /** The record its segment and keyring are chosen from. */
  readonly record: Readonly<Row>;
}

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
  readonly #refuseWithoutId: boolean;
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
    if (options.withoutRecordId !== undefined && options.withoutRecordId !== 'refuse' && options.withoutRecordId !== 'seal-unbound') {
      throw new KeystrataError('CONFIG_INVALID', 'withoutRecordId must be "refuse" or "seal-unbound".');
    }
    this.#refuseWithoutId = this.#bind && options.withoutRecordId !== 'seal-unbound';
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

  #id(spec: ModelSpec, row: Row): string | undefined {
    const value = row[spec.idField ?? 'id'];
    return value === undefined || value === null ? undefined : String(value);
  }

  /**
   * Replaces each marked field's plaintext with an envelope and fills its blind-index field, in
   * place. `segmentSource` supplies segment fields (and the id) a partial update does not carry. Null and
   * undefined stay as they are. All or nothing: on error no record is changed.
   */
  async encrypt(model: string, rows: readonly Row[], segmentSource?: (row: Row, index: number) => Row): Promise<void> {
    const spec = this.#models.get(model);
    if (spec === undefined || rows.length === 0) return;
    const inputs: RecordValues[] = [];
    const chosen: Row[] = [];
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r]!;
      // Only a partial update pays for merging in its stored segment fields, and only when it writes an encrypted field.
      if (segmentSource !== undefined && !spec.fields.some((f) => row[f.field] !== undefined && row[f.field] !== null)) continue;
      const record = segmentSource === undefined ? row : { ...segmentSource(row, r), ...row };
      // A partial update binds the stored record's id when it does not carry its own.
      inputs.push({ values: row, id: this.#id(spec, row) ?? this.#id(spec, record), record });
      chosen.push(row);
    }
    await this.#seal(model, spec, inputs, chosen);
  }

  /**
   * Encrypts the plaintexts of many records of `model` in one batch and returns, per record, its
   * envelopes and blind indexes by column (fields whose value is null or undefined are left out).
   * The lower-level form of {@link RecordEncryptor.encrypt}, for adapters whose values, record id
   * and segment-bearing record are not one object. Writes nothing.
   *
   * @example
   * ```ts
   * const [sealed] = await records.sealRecords('Patient', [{ values: { ssn: '123' }, id: 'p1', record: { tenantId: 'acme' } }]);
   * sealed.ssn; // "ks1.…"
   * ```
   */
  async sealRecords(model: string, records: readonly RecordValues[]): Promise<Row[]> {
    const out: Row[] = records.map(() => ({}));
    const spec = this.#models.get(model);
    if (spec !== undefined) await this.#seal(model, spec, records, out);
    return out;
  }

  /** One batch: envelopes and blind indexes of `records[i]` are written into `into[i]`, only once all of them exist. */
  async #seal(model: string, spec: ModelSpec, records: readonly RecordValues[], into: readonly Row[]): Promise<void> {
    const items: EncryptItem[] = [];
    const indexItems: BlindIndexItem[] = [];
    const targets: Array<{ out: Row; field: string; index: string | undefined }> = [];
    for (let r = 0; r < records.length; r++) {
      const { values, id, record } = records[r]!;
      let where: { segment: string; keyring: string | undefined } | undefined;
      for (const f of spec.fields) {
        const value = values[f.field];
        if (value === undefined || value === null) continue;
        if (isEnvelope(value)) throw new KeystrataError('PLAINTEXT_REJECTED', `${model}.${f.field} already holds an envelope; write plaintext, the adapter encrypts it.`);
        if (UnreadableValue.isInstance(value)) throw new KeystrataError('PLAINTEXT_REJECTED', `${model}.${f.field} holds an UnreadableValue placeholder, which is never written.`);
        // Precondition: with bindRecordId on, a value is sealed only bound to its record's id.
        if (this.#refuseWithoutId && id === undefined) throw missingId(model, spec);
        where ??= { segment: resolveSegment(this.#segment, model, id, record), keyring: this.#keyringOf(model, record) };
        items.push({ value: value as FieldValue, context: this.#context(model, f.field, id, where.segment, where.keyring) });
        targets.push({ out: into[r]!, field: f.field, index: f.index });
        if (f.index)
          indexItems.push(
            this.#indexKeyring === undefined ? { value: value as FieldValue, model, field: f.field } : { value: value as FieldValue, model, field: f.field, keyring: this.#indexKeyring },
          );
      }
    }
    if (items.length === 0) return;
    const [sealed, indexes] = await Promise.all([this.hierarchy.encryptValues(items), indexItems.length === 0 ? [] : this.hierarchy.blindIndexes(indexItems)]);
    let n = 0;
    for (let i = 0; i < targets.length; i++) {
      const t = targets[i]!;
      t.out[t.field] = sealed[i];
      if (t.index) t.out[t.index] = indexes[n++];
    }
  }

  /**
   * Decrypts each marked field in place. A stored value that is not an envelope is an error
   * (CIPHERTEXT_MALFORMED), never plaintext. With `onUnreadable: 'placeholder'` unreadable values
   * become {@link UnreadableValue}s instead of throwing. All or nothing when throwing.
   */
  decrypt(model: string, rows: readonly Row[]): Promise<void> {
    return this.decryptGroups([{ model, rows }]);
  }

  /**
   * {@link RecordEncryptor.decrypt} for the rows of several models at once (a result with its
   * relations): one key resolution and one decrypt batch for all of them.
   *
   * @example
   * ```ts
   * await records.decryptGroups([{ model: 'Patient', rows: patients }, { model: 'Visit', rows: visits }]);
   * ```
   */
  async decryptGroups(groups: ReadonlyArray<{ readonly model: string; readonly rows: readonly Row[] }>): Promise<void> {
    const items: DecryptItem[] = [];
    const targetRows: Row[] = [];
    const targetFields: string[] = [];
    const unresolved: Array<{ row: Row; field: string; error: KeystrataError }> = [];
    for (const { model, rows } of groups) {
      const spec = this.#models.get(model);
      if (spec === undefined) continue;
      for (const row of rows) {
        let read: { id: string | undefined; segment: string; keyring: string | undefined } | KeystrataError | undefined;
        for (const f of spec.fields) {
          const value = row[f.field];
          if (value === undefined || value === null) continue;
          read ??= this.#readContext(model, spec, row);
          if (read instanceof KeystrataError) {
            // Never decrypted without its segment check: all or nothing when throwing, a placeholder otherwise.
            if (!this.#placeholder) throw read;
            unresolved.push({ row, field: f.field, error: read });
            continue;
          }
          items.push({ ciphertext: value, context: this.#context(model, f.field, read.id, read.segment, read.keyring) });
          targetRows.push(row);
          targetFields.push(f.field);
        }
      }
    }
    for (const { row, field, error } of unresolved) row[field] = new UnreadableValue(error.code);
    if (items.length === 0) return;
    if (!this.#placeholder) {
      const values = await this.hierarchy.decryptValues(items);
      for (let i = 0; i < values.length; i++) targetRows[i]![targetFields[i]!] = values[i];
      return;
    }
    const results = await this.hierarchy.decryptValuesSettled(items);
    for (let i = 0; i < results.length; i++) {
      const r = results[i]!;
      targetRows[i]![targetFields[i]!] = r.ok ? r.value : new UnreadableValue(r.error.code);
    }
  }

  /** The id, segment and keyring a row's values are checked against; a row whose segment cannot be chosen is refused. */
  #readContext(model: string, spec: ModelSpec, row: Row): { id: string | undefined; segment: string; keyring: string | undefined } | KeystrataError {
    const id = this.#id(spec, row);
    let segment: string;
    try {
      segment = resolveSegment(this.#segment, model, id, row);
    } catch {
      const policy = this.#segment;
      const missing = typeof policy === 'function' ? 'the fields your segment function reads' : policy.by === 'record' ? `"${spec.idField ?? 'id'}"` : `"${(policy as { field: string }).field}"`;
      return new KeystrataError(
        'SEGMENT_FIELD_MISSING',
        `${model} rows must be read with ${missing}: without it their encrypted values cannot be checked against their segment, so they were not decrypted.`,
        { details: { model } },
      );
    }
    return { id, segment, keyring: this.#keyringOf(model, row) };
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
