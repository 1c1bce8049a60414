import { isNearMiss } from '@keystrata/core/adapter';

const MARKER = 'encrypted';
const SPELLING = '`/// @encrypted` or `/// @encrypted(index: columnName)`';
/** Every `@word` that starts the comment or follows whitespace, with what follows it. */
const TOKEN = /(?:^|\s)@([A-Za-z_][A-Za-z0-9_]*)/g;
/** A well-formed marker's tail: nothing, or `(…)` ending the word. */
const TAIL = /^(?:\(([^()]*)\))?(?=\s|$)/;

function parseOptions(argumentText: string): { index?: string } {
  const out: { index?: string } = {};
  for (const part of argumentText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')) {
    const [key, value, extra] = part.split(':').map((s) => s.trim());
    if (key !== 'index' || !value || extra !== undefined || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(value)) {
      const guess = key !== undefined && key !== 'index' && isNearMiss(key, 'index') ? ` (did you mean "index"?)` : '';
      throw new Error(`unsupported @encrypted option "${part}"${guess}: only "index: <column>" is known, as in ${SPELLING}`);
    }
    if (out.index !== undefined) throw new Error(`@encrypted names "index" twice; write ${SPELLING}`);
    out.index = value;
  }
  return out;
}

/**
 * Parses the `@encrypted` / `@encrypted(index: column)` marker of a field's `///` comment;
 * null when the field is not marked. A misspelt marker (`@Encrypted`, `@encrypt`, `@encryted`),
 * a malformed one (`@encrypted(index: a` without its parenthesis) and unknown options are errors
 * naming the correct spelling, so a typo can neither leave a field in plaintext nor without its index.
 *
 * @example
 * ```ts
 * parseEncryptedAnnotation('@encrypted(index: emailIndex)'); // { index: 'emailIndex' }
 * parseEncryptedAnnotation('plain comment'); // null
 * parseEncryptedAnnotation('@Encrypted'); // throws: write `/// @encrypted`
 * ```
 */
export function parseEncryptedAnnotation(documentation: string | undefined): { index?: string } | null {
  if (documentation === undefined) return null;
  let found: { index?: string } | null = null;
  for (const match of documentation.matchAll(TOKEN)) {
    const word = match[1]!;
    if (isNearMiss(word, MARKER)) throw new Error(`"@${word}" is not a Keystrata marker, and the field would stay plaintext: write ${SPELLING}`);
    if (word !== MARKER) continue;
    const tail = TAIL.exec(documentation.slice(match.index + match[0].length));
    if (tail === null) throw new Error(`malformed @encrypted marker (it must end at a space or line end, with its options in one pair of parentheses): write ${SPELLING}`);
    if (found !== null) throw new Error(`@encrypted appears twice; write it once, as ${SPELLING}`);
    found = parseOptions(tail[1] ?? '');
  }
  return found;
}

/**
 * The misspelt or misplaced markers of a schema's plain `//` comments (Prisma keeps only `///`
 * comments as documentation, so a marker in a `//` comment would leave its field in plaintext),
 * as messages quoting the line.
 *
 * @example
 * ```ts
 * markersInPlainComments('model A {\n  // @encrypted\n  ssn String\n}'); // ['"// @encrypted": …']
 * ```
 */
export function markersInPlainComments(datamodel: string): string[] {
  return datamodel.split('\n').flatMap((line) => {
    const comment = /(?:^|[^/])\/\/(?!\/)(.*)$/.exec(line)?.[1];
    if (comment === undefined) return [];
    const words = [...comment.matchAll(TOKEN)].map((m) => m[1]!);
    return words.some((w) => w === MARKER || isNearMiss(w, MARKER))
      ? [`"${line.trim().slice(0, 80)}": a marker in a "//" comment is not seen by Prisma, and the field would stay plaintext: write ${SPELLING} (three slashes) on the line above the field`]
      : [];
  });
}
