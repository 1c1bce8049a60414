import { KeystrataError } from '@keystrata/core';
import type { FieldMap, FieldMapModel } from '../field-map/types.js';
import { markersInPlainComments, parseEncryptedAnnotation } from './annotation.js';
import { checkEncryptedField } from './check-field.js';
import type { DmmfModelLike } from './dmmf.js';
import { idStrategy } from './id-strategy.js';

function modelEntry(model: DmmfModelLike, problems: string[]): FieldMapModel {
  try {
    if (parseEncryptedAnnotation(model.documentation) !== null) problems.push(`${model.name}: @encrypted marks fields, not models; put \`/// @encrypted\` on the line above each field to encrypt`);
  } catch (error) {
    problems.push(`${model.name}: ${(error as Error).message}`);
  }
  const marked = model.fields.flatMap((field) => {
    try {
      const annotation = parseEncryptedAnnotation(field.documentation);
      return annotation === null ? [] : [{ field, index: annotation.index }];
    } catch (error) {
      problems.push(`${model.name}.${field.name}: ${(error as Error).message}`);
      return [];
    }
  });
  const names = new Set(marked.map((m) => m.field.name));
  const indexes = new Set<string>();
  for (const { field, index } of marked) {
    problems.push(...checkEncryptedField(model, field, index, names));
    if (index !== undefined && indexes.has(index)) problems.push(`${model.name}.${field.name}: index column "${index}" is used by two fields`);
    if (index !== undefined) indexes.add(index);
  }
  const ids = model.fields.filter((f) => f.isId);
  const id = ids.length === 1 && !model.primaryKey ? { field: ids[0]!.name, type: ids[0]!.type, strategy: idStrategy(ids[0]!.default) } : null;
  return {
    encrypted: marked.map(({ field, index }) => (index === undefined ? { field: field.name } : { field: field.name, index })),
    id,
    scalars: Object.fromEntries(model.fields.filter((f) => f.kind === 'scalar' || f.kind === 'enum').map((f) => [f.name, f.type])),
    relations: Object.fromEntries(model.fields.filter((f) => f.kind === 'object').map((f) => [f.name, { model: f.type, isList: f.isList, fields: [...(f.relationFromFields ?? [])] }])),
  };
}

/**
 * Builds the {@link FieldMap} from the DMMF models of a schema (and, given the schema text, checks
 * its plain `//` comments for markers Prisma would drop); throws one `CONFIG_INVALID`
 * KeystrataError listing every invalid or misspelt annotation, so `prisma generate` fails instead
 * of emitting a map that would store plaintext.
 *
 * @example
 * ```ts
 * const map = buildFieldMap(options.dmmf.datamodel.models);
 * map.models.Patient.encrypted; // [{ field: 'ssn' }, { field: 'email', index: 'emailIndex' }]
 * ```
 */
export function buildFieldMap(models: readonly DmmfModelLike[], datamodel?: string): FieldMap {
  const problems: string[] = datamodel === undefined ? [] : markersInPlainComments(datamodel);
  const entries = models.map((model) => [model.name, modelEntry(model, problems)] as const);
  if (problems.length > 0) {
    throw new KeystrataError('CONFIG_INVALID', `keystrata-prisma: invalid @encrypted annotations:\n- ${problems.join('\n- ')}\nNothing was generated.`, {
      hint: 'Fix the markers in schema.prisma as each line says, then run `prisma generate` again.',
    });
  }
  return { version: 1, models: Object.fromEntries(entries) };
}
