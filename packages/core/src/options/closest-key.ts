import { editDistance } from './near-miss.js';

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
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (best === undefined || distance < best.distance) best = { name: candidate, distance };
  }
  if (best === undefined || best.distance > Math.max(2, Math.ceil(name.length / 3))) return undefined;
  return best.name;
}
