import { KeystrataError } from '@keystrata/core';
import type { FieldMap } from './types.js';

const invalid = (what: string) => new KeystrataError('CONFIG_INVALID', `fieldMap ${what}; pass the \`fieldMap\` the keystrata-prisma generator emitted (run \`prisma generate\`).`);

/**
 * Validates a field map once: its version, and that every encrypted field, index column and
 * relation target it names exists.
 *
 * @example
 * ```ts
 * assertFieldMap(fieldMap); // throws KeystrataError CONFIG_INVALID when it is not one
 * ```
 */
export function assertFieldMap(value: unknown): asserts value is FieldMap {
  const map = value as FieldMap | null;
  if (typeof map !== 'object' || map === null || map.version !== 1 || typeof map.models !== 'object' || map.models === null) throw invalid('is not a version-1 field map');
  for (const [name, model] of Object.entries(map.models)) {
    if (!Array.isArray(model?.encrypted) || typeof model.scalars !== 'object' || typeof model.relations !== 'object') throw invalid(`model ${name} is malformed`);
    for (const { field, index } of model.encrypted) {
      if (model.scalars[field] !== 'String' || (index !== undefined && model.scalars[index] !== 'String')) throw invalid(`model ${name}: ${field} is not a String field with a String index`);
    }
    for (const [rel, target] of Object.entries(model.relations)) {
      if (map.models[target.model] === undefined) throw invalid(`relation ${name}.${rel} targets unknown model ${target.model}`);
    }
  }
}
