/**
 * Damerau–Levenshtein distance (optimal string alignment) of two short words: insertions,
 * deletions, substitutions and swaps of neighbours each count one edit.
 *
 * @example
 * ```ts
 * editDistance('encrytped', 'encrypted'); // 1
 * ```
 */
export function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = best;
    }
  }
  return rows[a.length]![b.length]!;
}

/**
 * True when `word` is not `expected` but looks like a misspelling of it: another case, a letter
 * missing, added, swapped or wrong (up to two edits), or the same stem with a short ending
 * (`encrypt`, `encryption`); a longer name on the stem (`EncryptedModel`) is another word.
 *
 * @example
 * ```ts
 * isNearMiss('Encrypted', 'encrypted'); // true
 * isNearMiss('encrypt', 'encrypted'); // true
 * isNearMiss('encrypted', 'encrypted'); // false
 * isNearMiss('EncryptedModel', 'encrypted'); // false
 * ```
 */
export function isNearMiss(word: string, expected: string): boolean {
  if (word === expected) return false;
  const lower = word.toLowerCase();
  const stem = expected.slice(0, Math.max(4, expected.length - 2));
  // The stem only with a short ending (`encrypt`, `encryption`, `encryptedish`), not another name (`EncryptedModel`).
  return lower === expected || (lower.startsWith(stem) && lower.length <= expected.length + 3) || editDistance(lower, expected) <= 2;
}
