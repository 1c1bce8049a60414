import { KeystrataError } from '@keystrata/core';
import type { EncryptedFieldSpec } from '@keystrata/core/adapter';
import type { DataSource, EntityMetadata } from 'typeorm';
import { encryptedPropertiesOf } from './decorators.js';
import { modelNameOf } from './model-name.js';
import { columnOf, embeddedMarks } from './columns.js';

/**
 * What the adapter knows about one entity with encrypted columns.
 *
 * @example
 * ```ts
 * const info: EntityInfo = { model: 'Patient', metadata, fields: [{ field: 'ssn' }], idField: 'id', uuid: true };
 * ```
 */
export interface EntityInfo {
  /** Logical model name bound into the AAD (default: the entity class name). */
  readonly model: string;
  readonly metadata: EntityMetadata;
  readonly fields: readonly EncryptedFieldSpec[];
  /** The single primary-key property. */
  readonly idField: string;
  /** Whether the primary key is `@PrimaryGeneratedColumn('uuid')` (pre-generated before encrypting). */
  readonly uuid: boolean;
}

/**
 * Reads and validates the `@Encrypted()` columns of one entity; undefined when it has none.
 *
 * @example
 * ```ts
 * const info = entityInfoOf(dataSource, dataSource.getMetadata(Patient)); // { model: 'Patient', fields: [...] }
 * ```
 */
export function entityInfoOf(dataSource: DataSource, metadata: EntityMetadata): EntityInfo | undefined {
  const marks = encryptedPropertiesOf(metadata.target);
  const nested = embeddedMarks(metadata);
  if (nested !== undefined) throw new KeystrataError('CONFIG_INVALID', `${metadata.name}.${nested}: @Encrypted() inside an embedded column is not supported; mark a top-level column.`);
  if (marks.size === 0) return undefined;
  const fields: EncryptedFieldSpec[] = [];
  for (const [field, { index }] of marks) {
    columnOf(dataSource, metadata, field, 'encrypted');
    if (index !== undefined) {
      if (marks.has(index)) throw new KeystrataError('CONFIG_INVALID', `${metadata.name}.${index} cannot be both encrypted and a blind index.`);
      columnOf(dataSource, metadata, index, 'blind-index');
    }
    fields.push(index === undefined ? { field } : { field, index });
  }
  const primary = metadata.primaryColumns;
  if (primary.length !== 1 || primary[0]!.embeddedMetadata !== undefined) {
    throw new KeystrataError('CONFIG_INVALID', `${metadata.name} needs exactly one top-level primary column to encrypt fields.`);
  }
  const model = modelNameOf(metadata.target) ?? metadata.targetName;
  return { model, metadata, fields, idField: primary[0]!.propertyName, uuid: primary[0]!.generationStrategy === 'uuid' };
}
