/**
 * Prisma's delegate name of a model (`Patient` → `patient`).
 *
 * @example
 * ```ts
 * delegateName('BlogPost'); // 'blogPost'
 * ```
 */
export function delegateName(model: string): string {
  return model.charAt(0).toLowerCase() + model.slice(1);
}

/**
 * A key read back from text (a cursor, a segment name) in the type of its Prisma field.
 *
 * @example
 * ```ts
 * typedKey('Int', '42'); // 42
 * ```
 */
export function typedKey(type: string | undefined, text: string): unknown {
  return type === 'Int' ? Number(text) : type === 'BigInt' ? BigInt(text) : text;
}
