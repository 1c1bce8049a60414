/**
 * Groups items by a key, keeping first-seen order.
 *
 * @example
 * ```ts
 * groupBy([{ m: 'A' }, { m: 'B' }, { m: 'A' }], (x) => x.m); // Map { 'A' => [2 items], 'B' => [1] }
 * ```
 */
export function groupBy<T, K>(items: readonly T[], key: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group === undefined) groups.set(k, [item]);
    else group.push(item);
  }
  return groups;
}
