import { KeystrataError } from '../errors/keystrata-error.js';
import type { CmkRecord, KekRecord, KeyState } from '../key-store/records.js';
import { now, type HierarchyInternals } from '../hierarchy/internals.js';
import { rotateKek } from '../hierarchy/provisioning.js';
import { rewrapDeks } from '../hierarchy/rewrap.js';

const LIVE_DEK_STATES: readonly KeyState[] = ['primary', 'enabled', 'disabled'];
const gone = (state: KeyState): boolean => state === 'destroyed' || state === 'retired';

/** How many live DEKs `kek` still wraps (paged: DEKs under older, destroyed KEKs may be many). */
async function liveDeksUnder(h: HierarchyInternals, keyring: string, kek: KekRecord): Promise<number> {
  let count = 0;
  let afterId: string | undefined;
  for (;;) {
    const page = await h.keyStore.listDeks({ keyring, states: LIVE_DEK_STATES, kekVersionBelow: kek.version + 1, limit: 1000, ...(afterId === undefined ? {} : { afterId }) });
    count += page.filter((d) => d.kekVersion === kek.version).length;
    if (page.length < 1000) return count;
    afterId = page.at(-1)!.id;
  }
}

/**
 * Refuses an epoch that would lose live keys: a disabled KEK or CMK version still in use cannot be
 * moved (its DEKs cannot be unwrapped), and destroying it would shred them too.
 *
 * @example
 * ```ts
 * await assertEpochPossible(h, 'default'); // throws KEY_DISABLED naming the key to enable or destroy
 * ```
 */
export async function assertEpochPossible(h: HierarchyInternals, keyring: string): Promise<void> {
  const cmks = new Map((await h.keyStore.listCmks(keyring)).map((c) => [c.version, c]));
  for (const kek of await h.keyStore.listKeks(keyring)) {
    if (gone(kek.state)) continue;
    const cmk = cmks.get(kek.cmkVersion);
    const blocker = kek.state === 'disabled' ? `KEK ${keyring} v${kek.version}` : cmk?.state === 'disabled' ? `CMK ${keyring} v${kek.cmkVersion}` : undefined;
    if (blocker === undefined) continue;
    if (kek.state === 'disabled' && (await liveDeksUnder(h, keyring, kek)) === 0) continue;
    throw new KeystrataError('KEY_DISABLED', `The shred epoch of keyring "${keyring}" cannot move the keys under ${blocker}, which is disabled: enable it (or destroy it, shredding what it protects) and run \`keystrata shred complete\` again. Destroyed keys stay destroyed meanwhile.`, { details: { keyring } });
  }
}

/**
 * Refuses to go on destroying when the epoch's KEK or CMK version is no longer the primary one:
 * another process rotated or ran an epoch meanwhile, and what it made must not be destroyed here.
 *
 * @example
 * ```ts
 * await assertStillPrimary(h, 'default', 'KEK', 4);
 * ```
 */
export async function assertStillPrimary(h: HierarchyInternals, keyring: string, what: 'KEK' | 'CMK', version: number): Promise<void> {
  const versions = what === 'KEK' ? await h.keyStore.listKeks(keyring) : await h.keyStore.listCmks(keyring);
  const primary = versions.filter((v) => v.state === 'primary').map((v) => v.version);
  if (primary.length === 1 && primary[0] === version) return;
  throw new KeystrataError('ROTATION_IN_PROGRESS', `The primary ${what} of keyring "${keyring}" changed during the shred epoch (another rotation or epoch is running); nothing more was destroyed. Run \`keystrata shred complete\` again when it is done.`, { details: { keyring } });
}

/**
 * Step 1: the epoch's new CMK version in the HSM. The old primary is set `enabled` first (one
 * primary per keyring at every instant). Idempotent: returns the version if a previous run made it.
 *
 * @example
 * ```ts
 * const cmk = await ensureEpochCmk(h, 'default', 3);
 * ```
 */
export async function ensureEpochCmk(h: HierarchyInternals, keyring: string, version: number): Promise<CmkRecord> {
  const cmks = await h.keyStore.listCmks(keyring);
  const existing = cmks.find((c) => c.version === version);
  if (existing !== undefined) return existing;
  for (const old of cmks.filter((c) => c.state === 'primary')) await h.keyStore.setCmkState(keyring, old.version, 'enabled', now());
  const label = `${h.cmkLabelPrefix}/${keyring}/v${version}`;
  const ref = await h.rootKey.createCmk(label);
  const at = now();
  const record: CmkRecord = { keyring, version, hsmLabel: ref.label, hsmId: ref.id, state: 'primary', createdAt: at, updatedAt: at };
  try {
    await h.keyStore.insertCmk(record);
  } catch (error) {
    // Another process registered this version first: leave no unregistered CMK behind in the HSM.
    await h.rootKey.destroyCmk(ref).catch(() => undefined);
    if ((await h.keyStore.listCmks(keyring)).some((c) => c.version === version)) {
      throw new KeystrataError('ROTATION_IN_PROGRESS', `Another process started a shred epoch or rotation of keyring "${keyring}" at the same moment; run \`keystrata shred complete\` again when it is done.`, { details: { keyring } });
    }
    throw error;
  }
  await h.audit.record('generate', `cmk:${keyring}:v${version}`, { keyring, version, hsmLabel: label, reason: 'shred-epoch' });
  return record;
}

/**
 * Step 2: a new KEK version under the epoch's CMK (reused when a previous run made it).
 *
 * @example
 * ```ts
 * const kekVersion = await ensureEpochKek(h, 'default', cmk.version);
 * ```
 */
export async function ensureEpochKek(h: HierarchyInternals, keyring: string, cmkVersion: number): Promise<number> {
  const primary = (await h.keyStore.listKeks(keyring)).filter((k) => k.state === 'primary').at(-1);
  if (primary !== undefined && primary.cmkVersion === cmkVersion) return primary.version;
  return (await rotateKek(h, keyring)).version;
}


/**
 * Steps 3 and 4: every surviving DEK re-wrapped in process under the epoch's KEK, then every
 * other KEK version destroyed (state `destroyed`, wrapped blob erased). A KEK is destroyed only
 * once no live DEK references it (checked again right before, and re-wrapped if a writer raced).
 * Never re-wraps an old KEK under the new CMK: an old KEK must end with its CMK.
 *
 * @example
 * ```ts
 * const { rewrapped, destroyedKeks } = await moveDeksAndDestroyOldKeks(h, 'default', 4, plan.cutoff);
 * ```
 */
export async function moveDeksAndDestroyOldKeks(h: HierarchyInternals, keyring: string, kekVersion: number, cutoff: string, onProgress?: () => void): Promise<{ rewrapped: number; destroyedKeks: number[] }> {
  let rewrapped = (await rewrapDeks(h, keyring, undefined, onProgress)).rewrapped;
  const destroyedKeks: number[] = [];
  for (const kek of await h.keyStore.listKeks(keyring)) {
    // Only versions older than the epoch's: a newer one belongs to a rotation that started since.
    if (kek.version >= kekVersion || gone(kek.state)) continue;
    await assertStillPrimary(h, keyring, 'KEK', kekVersion);
    for (let attempt = 0; (await liveDeksUnder(h, keyring, kek)) > 0; attempt++) {
      if (attempt === 3) {
        throw new KeystrataError('KEY_IN_USE', `Live DEKs of keyring "${keyring}" are still wrapped by KEK v${kek.version} after re-wrapping; nothing was destroyed. Run \`keystrata shred complete\` again.`, { details: { keyring } });
      }
      rewrapped += (await rewrapDeks(h, keyring, undefined, onProgress)).rewrapped;
    }
    await h.keyStore.putTombstone({ kind: 'kek', id: String(kek.version), keyring, segment: '', destroyedAt: cutoff, durableAt: null });
    await h.keyStore.updateKek(keyring, kek.version, { state: 'destroyed', wrapped: '', at: now() });
    h.resolver.evict({ keyring, kekVersion: kek.version });
    await h.audit.record('destroy', `kek:${keyring}:v${kek.version}`, { keyring, version: kek.version, reason: 'shred-epoch' });
    destroyedKeks.push(kek.version);
  }
  return { rewrapped, destroyedKeks };
}

/**
 * Step 5: every CMK version but the epoch's destroyed inside the HSM (state `retired`). After
 * this, every old wrapped blob (WAL, dead tuples, backups) ends at a CMK that no longer exists.
 *
 * @example
 * ```ts
 * const retired = await destroyOldCmks(h, 'default', cmk.version, plan.cutoff);
 * ```
 */
export async function destroyOldCmks(h: HierarchyInternals, keyring: string, cmkVersion: number, cutoff: string): Promise<number[]> {
  const retired: number[] = [];
  for (const cmk of await h.keyStore.listCmks(keyring)) {
    if (cmk.version >= cmkVersion || gone(cmk.state)) continue;
    await assertStillPrimary(h, keyring, 'CMK', cmkVersion);
    const keks = await h.keyStore.listKeks(keyring);
    if (keks.some((k) => k.cmkVersion === cmk.version && !gone(k.state))) {
      throw new KeystrataError('KEY_IN_USE', `CMK ${keyring} v${cmk.version} still wraps a live KEK; nothing was destroyed. Run \`keystrata shred complete\` again.`, { details: { keyring } });
    }
    await h.keyStore.putTombstone({ kind: 'cmk', id: String(cmk.version), keyring, segment: '', destroyedAt: cutoff, durableAt: null });
    const ref = { label: cmk.hsmLabel, id: cmk.hsmId };
    if (await h.rootKey.hasCmk(ref)) await h.rootKey.destroyCmk(ref);
    await h.keyStore.setCmkState(keyring, cmk.version, 'retired', now());
    await h.audit.record('retire', `cmk:${keyring}:v${cmk.version}`, { keyring, version: cmk.version, reason: 'shred-epoch' });
    retired.push(cmk.version);
  }
  return retired;
}
