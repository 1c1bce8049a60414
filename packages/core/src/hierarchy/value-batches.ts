import { KeyLeases } from '../cache/key-leases.js';
import type { NativeAeadModule } from '../crypto/native-aead.js';
import { decodeBatch } from '../envelope/batch-decode.js';
import { openDecoded } from '../envelope/batch-open.js';
import { type SealKey, sealSlots } from '../envelope/batch-seal.js';
import type { FieldContext } from '../envelope/field-context.js';
import type { FieldValue } from '../envelope/value-codec.js';
import { KeystrataError } from '../errors/keystrata-error.js';
import type { SecretKey } from '../secret/secret-key.js';
import { checkContext, checkKeyring } from './context-checks.js';
import type { HierarchyInternals } from './internals.js';
import type { DecryptItem, EncryptItem } from './key-hierarchy-types.js';
import type { UsableDek } from './key-resolver.js';

const checkReadContext = (context: FieldContext): void => checkContext(context, false);

/**
 * The batch behind `encryptValues`: checks every context, gives each item the slot of its
 * (keyring, segment), resolves each segment's current DEK once (counting its uses against the
 * rotation policy), then seals. Fails as a whole.
 *
 * @example
 * ```ts
 * const texts = await encryptBatch(h, aead, [{ value: 'a', context: { model: 'M', field: 'f', segment: 's' } }]);
 * ```
 */
export async function encryptBatch(h: HierarchyInternals, aead: NativeAeadModule | undefined, items: readonly EncryptItem[]): Promise<string[]> {
  // The caller's array may change while the keys are resolved (an await): seal the items as called.
  items = items.slice();
  const slots = new Int32Array(items.length);
  const uses: number[] = [];
  // keyring → segment → slot, in order of first use (the order keys are resolved in).
  const byKeyring = new Map<string, Map<string, number>>();
  assignSegments(items, h.defaultKeyring, slots, uses, byKeyring);
  const leases = new KeyLeases();
  try {
    const keys = new Array<SealKey>(uses.length);
    for (const [keyring, segments] of byKeyring) {
      const counts = new Map<string, number>();
      for (const [segment, slot] of segments) counts.set(segment, uses[slot]!);
      const deks = await h.resolver.encryptionKeys(checkKeyring(keyring), [...segments.keys()], leases, counts);
      for (const [segment, slot] of segments) {
        const dek = deks.get(segment)!;
        keys[slot] = { key: dek.key, dekId: dek.meta.id };
      }
    }
    return await sealSlots(aead, items, slots, keys);
  } finally {
    leases.release();
  }
}

/**
 * Checks each item's context and gives it the slot of its (keyring, segment), counting uses. Its own
 * function, so V8 optimizes this loop on its own rather than as an on-stack replacement inside
 * {@link encryptBatch} (which deoptimized on the code after the loop, every call).
 */
function assignSegments(items: readonly EncryptItem[], defaultKeyring: string, slots: Int32Array, uses: number[], byKeyring: Map<string, Map<string, number>>): void {
  let lastKeyring: string | undefined;
  let lastSegment: string | undefined;
  let lastSlot = -1;
  for (let i = 0; i < items.length; i++) {
    const { context } = items[i]!;
    checkContext(context, true);
    const keyring = context.keyring ?? defaultKeyring;
    const segment = context.segment!;
    if (keyring !== lastKeyring || segment !== lastSegment) {
      let segments = byKeyring.get(keyring);
      if (segments === undefined) byKeyring.set(keyring, (segments = new Map()));
      let slot = segments.get(segment);
      if (slot === undefined) segments.set(segment, (slot = uses.push(0) - 1));
      lastKeyring = keyring;
      lastSegment = segment;
      lastSlot = slot;
    }
    slots[i] = lastSlot;
    uses[lastSlot]!++;
  }
}

/** Per batch: the items, each DEK slot's key (or its error), the default keyring. A tuple, not an object: see `OpenKeyOf`. */
type ReadKeys = readonly [items: readonly DecryptItem[], deks: ReadonlyArray<UsableDek | KeystrataError>, defaultKeyring: string];

/** The DEK of a value once its keyring and segment match the reader's (else the error). */
function checkedKey(index: number, slot: number, keys: ReadKeys): SecretKey {
  const { context } = keys[0][index]!;
  const dek = keys[1][slot]!;
  if (dek instanceof Error) throw dek;
  // The DEK's keyring and segment are authenticated by its wrapping (docs/format.md): compare them with the reader's.
  const keyring = context.keyring ?? keys[2];
  if (keyring !== dek.meta.keyring) {
    throw new KeystrataError('CIPHERTEXT_TAMPERED', `The value belongs to another keyring than "${keyring}": it was moved, or is read with the wrong keyring.`, { details: { keyring } });
  }
  if (context.segment !== undefined && context.segment !== dek.meta.segment) {
    throw new KeystrataError('CIPHERTEXT_TAMPERED', `The value belongs to another segment than "${context.segment}".`);
  }
  return dek.key;
}

/**
 * The batch behind `decryptValues` and `decryptValuesSettled`: decodes every envelope once
 * (validating it and noting its DEK), resolves the DEKs named (one key-store query for the cache
 * misses), then opens. With `stopAtError`, throws the error of the first failing item; else every
 * item's error is in `errors` and its value slot is left undefined.
 *
 * @example
 * ```ts
 * const { values, errors } = await decryptBatch(h, aead, items, false);
 * ```
 */
export async function decryptBatch(
  h: HierarchyInternals,
  aead: NativeAeadModule | undefined,
  items: readonly DecryptItem[],
  stopAtError: boolean,
): Promise<{ values: FieldValue[]; errors: Map<number, KeystrataError> }> {
  // The caller's array may change while the keys are looked up (an await): work on the items as called.
  items = items.slice();
  const batch = decodeBatch(items, checkReadContext);
  const leases = new KeyLeases();
  try {
    const uses = new Map<string, number>();
    for (let slot = 0; slot < batch.ids.length; slot++) uses.set(batch.ids[slot]!, batch.uses[slot]!);
    const found = batch.ids.length === 0 ? new Map<string, UsableDek | KeystrataError>() : await h.resolver.decryptionKeys(batch.ids, uses, leases);
    const keys = batch.ids.map((id) => found.get(id)!);
    const values = new Array<FieldValue>(items.length);
    await openDecoded(aead, batch, checkedKey, [items, keys, h.defaultKeyring] as ReadKeys, values, stopAtError);
    return { values, errors: batch.errors };
  } finally {
    leases.release();
  }
}
