import type { DmmfFieldLike, DmmfModelLike } from './dmmf.js';

/**
 * The problems of one `@encrypted` field (and its index column), as messages; empty when valid.
 * Ciphertext is text, so the field must be a single `String`; it cannot be an id or `@unique`
 * (random IVs make every value distinct: put `@unique` on the index column instead).
 *
 * @example
 * ```ts
 * checkEncryptedField(model, field, 'emailIndex', new Set(['ssn', 'email'])); // []
 * ```
 */
export function checkEncryptedField(model: DmmfModelLike, field: DmmfFieldLike, index: string | undefined, encrypted: ReadonlySet<string>): string[] {
  const at = `${model.name}.${field.name}`;
  const problems: string[] = [];
  if (field.kind !== 'scalar' || field.type !== 'String' || field.isList)
    problems.push(`${at}: @encrypted needs a single String field (the column holds "ks1.…" text), not ${field.type}${field.isList ? '[]' : ''}`);
  if (field.isId) problems.push(`${at}: an id cannot be @encrypted`);
  if (field.isUnique) problems.push(`${at}: @unique on ciphertext never matches; put @unique on its index column`);
  if (index === undefined) return problems;
  const column = model.fields.find((f) => f.name === index);
  if (column === undefined) problems.push(`${at}: index column "${index}" does not exist on ${model.name}`);
  else if (column.kind !== 'scalar' || column.type !== 'String' || column.isList) problems.push(`${at}: index column "${index}" must be a String field`);
  else if (encrypted.has(index)) problems.push(`${at}: index column "${index}" is itself @encrypted`);
  return problems;
}
