/** Edit distance (insertions, deletions, substitutions; case-insensitive) between two short names. */
function editDistance(left: string, right: string): number {
  const a = left.toLowerCase();
  const b = right.toLowerCase();
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let row = 1; row <= a.length; row++) {
    const current = [row];
    for (let column = 1; column <= b.length; column++) {
      const substitution = previous[column - 1]! + (a[row - 1] === b[column - 1] ? 0 : 1);
      current.push(Math.min(previous[column]! + 1, current[column - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * The valid name closest to a misspelt one, or undefined when none is close (more than a third of
 * the name, at least 2 edits, differs).
 *
 * @example
 * ```ts
 * closestKey('keystore', ['keyStore', 'keyring']); // 'keyStore'
 * closestKey('colour', ['segment']);               // undefined
 * ```
 */
export function closestKey(name: string, validNames: Iterable<string>): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const candidate of validNames) {
    const distance = editDistance(name, candidate);
    if (best === undefined || distance < best.distance) best = { name: candidate, distance };
  }
  if (best === undefined || best.distance > Math.max(2, Math.ceil(name.length / 3))) return undefined;
  return best.name;
}
