const ANNOTATION = /(?:^|\s)@encrypted(?:\(([^)]*)\))?(?=[\s]|$)/;

/**
 * Parses the `@encrypted` / `@encrypted(index: column)` marker of a field's `///` comment;
 * null when the field is not marked. Unknown options are an error, so a typo cannot leave a
 * field without its index.
 *
 * @example
 * ```ts
 * parseEncryptedAnnotation('@encrypted(index: emailIndex)'); // { index: 'emailIndex' }
 * parseEncryptedAnnotation('plain comment'); // null
 * ```
 */
export function parseEncryptedAnnotation(documentation: string | undefined): { index?: string } | null {
  if (documentation === undefined) return null;
  const match = ANNOTATION.exec(documentation);
  if (match === null) return null;
  const out: { index?: string } = {};
  for (const part of (match[1] ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const [key, value, extra] = part.split(':').map((s) => s.trim());
    if (key !== 'index' || !value || extra !== undefined || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(value)) {
      throw new Error(`unsupported @encrypted option "${part}" (only "index: <column>" is known)`);
    }
    out.index = value;
  }
  return out;
}
