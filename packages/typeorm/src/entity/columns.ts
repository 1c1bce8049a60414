import { KeystrataError } from '@keystrata/core';
import type { DataSource, EntityMetadata } from 'typeorm';
import { encryptedPropertiesOf } from './decorators.js';

const TEXT_TYPE = /char|text|clob|string/i;

/**
 * The top-level text column of `property`, or CONFIG_INVALID naming what is wrong with it.
 *
 * @example
 * ```ts
 * columnOf(dataSource, metadata, 'ssn', 'encrypted');
 * ```
 */
export function columnOf(dataSource: DataSource, metadata: EntityMetadata, property: string, role: string) {
  const column = metadata.columns.find((c) => c.propertyName === property && c.embeddedMetadata === undefined && c.relationMetadata === undefined);
  const where = `${metadata.name}.${property}`;
  if (column === undefined) throw new KeystrataError('CONFIG_INVALID', `${where} (${role}) must be a top-level @Column of the entity.`);
  if (column.transformer !== undefined) throw new KeystrataError('CONFIG_INVALID', `${where} (${role}) cannot have a transformer: it would transform the ciphertext.`);
  if (column.isArray || !TEXT_TYPE.test(dataSource.driver.normalizeType(column))) {
    throw new KeystrataError('CONFIG_INVALID', `${where} (${role}) must be a text column, e.g. @Column('text').`);
  }
  return column;
}

/**
 * The first property marked `@Encrypted()` inside an embedded column of the entity, if any.
 *
 * @example
 * ```ts
 * embeddedMarks(metadata); // 'address.street' or undefined
 * ```
 */
export function embeddedMarks(metadata: EntityMetadata): string | undefined {
  for (const embedded of metadata.allEmbeddeds) {
    const marks = encryptedPropertiesOf(embedded.type);
    const hit = embedded.columns.find((c) => marks.has(c.propertyName));
    if (hit !== undefined) return hit.propertyPath;
  }
  return undefined;
}
