import { checkContext, checkKeyring } from '../hierarchy/context-checks.js';
import { checkBlindIndexNames } from './blind-index.js';
import type { FieldValue } from '../envelope/value-codec.js';

/** A value to compute a blind index for, and the field it belongs to. */
export interface BlindIndexItem {
  readonly value: FieldValue;
  readonly model: string;
  readonly field: string;
  readonly keyring?: string;
}

/** Items of a batch that share one blind-index key: same keyring, model and field. */
export interface FieldGroup {
  readonly keyring: string;
  readonly model: string;
  readonly field: string;
  readonly indexes: number[];
}

/**
 * Groups a batch by (keyring, model, field), validating each item's field once. A batch touches a
 * handful of fields, so a scan of the groups found so far beats hashing a joined key per item.
 *
 * @example
 * ```ts
 * groupByField([{ value: 'a', model: 'User', field: 'email' }], 'default'); // [{ …, indexes: [0] }]
 * ```
 */
export function groupByField(items: readonly BlindIndexItem[], defaultKeyring: string): FieldGroup[] {
  const groups: FieldGroup[] = [];
  const many = new Map<string, FieldGroup>(); // past SCAN_LIMIT groups, look up by joined key
  for (let i = 0; i < items.length; i++) {
    const { model, field, keyring = defaultKeyring } = items[i]!;
    const joined = groups.length > SCAN_LIMIT ? `${keyring}\u0000${model}\u0000${field}` : undefined;
    const found = joined === undefined ? groups.find((g) => g.model === model && g.field === field && g.keyring === keyring) : many.get(joined);
    // The joined key is only a lookup: the group must be this very field (names are checked when a group is made).
    const group = found !== undefined && found.model === model && found.field === field && found.keyring === keyring ? found : undefined;
    if (group !== undefined) {
      group.indexes.push(i);
      continue;
    }
    checkContext({ model, field }, false);
    checkKeyring(keyring);
    checkBlindIndexNames(keyring, model, field);
    const created = { keyring, model, field, indexes: [i] };
    groups.push(created);
    if (groups.length > SCAN_LIMIT) for (const g of groups.length === SCAN_LIMIT + 1 ? groups : [created]) many.set(`${g.keyring}\u0000${g.model}\u0000${g.field}`, g);
  }
  return groups;
}

const SCAN_LIMIT = 16;
