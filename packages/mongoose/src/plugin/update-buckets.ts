type Obj = Record<string, unknown>;

/** Where a value lives in an update: a bucket (`$set`, top level, `$setOnInsert`, a replacement) and a key path in it. */
export interface Slot {
  readonly bucket: Obj;
  readonly key: string;
  /** Path inside `bucket[key]` when the key is an ancestor of the encrypted path (`$set: { address: { street } }`). */
  readonly inner?: string;
}

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;

/**
 * Finds `path` in a bucket, directly or inside an object set on one of its ancestors.
 *
 * @example
 * ```ts
 * findSlot({ address: { street: 'x' } }, 'address.street'); // { bucket, key: 'address', inner: 'street' }
 * ```
 */
export function findSlot(bucket: Obj | undefined, path: string): Slot | undefined {
  if (bucket === undefined) return undefined;
  if (Object.hasOwn(bucket, path)) return { bucket, key: path };
  for (const key of Object.keys(bucket)) {
    if (!path.startsWith(`${key}.`) || !isObj(bucket[key])) continue;
    const inner = path.slice(key.length + 1);
    let value: unknown = bucket[key];
    for (const part of inner.split('.')) value = isObj(value) ? value[part] : undefined;
    return value === undefined ? undefined : { bucket, key, inner };
  }
  return undefined;
}

/**
 * Reads the value at a slot.
 *
 * @example
 * ```ts
 * readSlot(findSlot(update.$set, 'ssn')!);
 * ```
 */
export function readSlot(slot: Slot): unknown {
  let value: unknown = slot.bucket[slot.key];
  if (slot.inner !== undefined) for (const part of slot.inner.split('.')) value = (value as Obj)[part];
  return value;
}

/**
 * Writes a value at a slot, copying the objects along an inner path (the caller's update stays untouched).
 *
 * @example
 * ```ts
 * writeSlot(findSlot(update.$set, 'ssn')!, 'ks1.…');
 * ```
 */
export function writeSlot(slot: Slot, value: unknown): void {
  if (slot.inner === undefined) {
    slot.bucket[slot.key] = value;
    return;
  }
  const parts = slot.inner.split('.');
  const root: Obj = { ...(slot.bucket[slot.key] as Obj) };
  slot.bucket[slot.key] = root;
  let current = root;
  for (const part of parts.slice(0, -1)) current = current[part] = { ...(current[part] as Obj) };
  current[parts.at(-1)!] = value;
}

/**
 * Copies an operator update one level deep (each operator's object), so slots can be written.
 *
 * @example
 * ```ts
 * const mine = copyUpdate(query.getUpdate()); // $set etc. copied, the caller's left alone
 * ```
 */
export function copyUpdate(update: Obj): Obj {
  return Object.fromEntries(Object.entries(update).map(([k, v]) => [k, k.startsWith('$') && isObj(v) ? { ...v } : v]));
}
