import { KeystrataError } from '../errors/keystrata-error.js';
import { KeyLeases } from '../cache/key-leases.js';
import type { CmkRecord, DekRecord, KekRecord, KeyState, TombstoneRecord } from '../key-store/records.js';
import { unwrapDek, wrapDek } from '../key-wrap/dek-wrap.js';
import type { CmkReference } from '../root-key/root-key.js';
import { now, type HierarchyInternals } from '../hierarchy/internals.js';
import { rotateKek } from '../hierarchy/provisioning.js';
import { rewrapDeks } from '../hierarchy/rewrap.js';
import type { SecretKey } from '../secret/secret-key.js';

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
    throw new KeystrataError(
      'KEY_DISABLED',
      `The shred epoch of keyring "${keyring}" cannot move the keys under ${blocker}, which is disabled: enable it (or destroy it, shredding what it protects) and run \`keystrata shred complete\` again. Destroyed keys stay destroyed meanwhile.`,
      { details: { keyring } },
    );
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
async function assertStillPrimary(h: HierarchyInternals, keyring: string, what: 'KEK' | 'CMK', version: number): Promise<void> {
  const versions = what === 'KEK' ? await h.keyStore.listKeks(keyring) : await h.keyStore.listCmks(keyring);
  const primary = versions.filter((v) => v.state === 'primary').map((v) => v.version);
  if (primary.length === 1 && primary[0] === version) return;
  throw new KeystrataError(
    'ROTATION_IN_PROGRESS',
    `The primary ${what} of keyring "${keyring}" changed during the shred epoch (another rotation or epoch is running); nothing more was destroyed. Run \`keystrata shred complete\` again when it is done.`,
    { details: { keyring } },
  );
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
      throw new KeystrataError(
        'ROTATION_IN_PROGRESS',
        `Another process started a shred epoch or rotation of keyring "${keyring}" at the same moment; run \`keystrata shred complete\` again when it is done.`,
        { details: { keyring } },
      );
    }
    throw error;
  }
  await h.audit.record('generate', `cmk:${keyring}:v${version}`, { keyring, version, hsmLabel: label, hsmId: ref.id, reason: 'shred-epoch' });
  return record;
}

/**
 * Step 2: a new KEK version under the epoch's CMK. `recorded` is the version the plan saved when a
 * previous run made it: only that version is reused (a KEK re-wrapped under the epoch's CMK by
 * anything else, e.g. an old KEK, is never adopted). Without one, a fresh version is created (a
 * version a killed run made but did not record is older, so step 4 destroys it). Runs under the
 * keyring lease the epoch holds.
 *
 * @example
 * ```ts
 * const kekVersion = await ensureEpochKek(h, 'default', cmk.version, plan.kekVersion);
 * ```
 */
export async function ensureEpochKek(h: HierarchyInternals, keyring: string, cmkVersion: number, recorded?: number): Promise<number> {
  const keks = await h.keyStore.listKeks(keyring);
  const mine = recorded === undefined ? undefined : keks.find((k) => k.version === recorded);
  if (mine !== undefined && mine.cmkVersion === cmkVersion && mine.state === 'primary') return mine.version;
  await assertStillPrimary(h, keyring, 'CMK', cmkVersion);
  const newest = Math.max(0, ...keks.map((k) => k.version));
  for (let attempt = 0; attempt < 2; attempt++) {
    // An interrupted KEK rotation is finished first by rotateKek; only a version newer than every
    // existing one, under the epoch's CMK, is the epoch's.
    const { version } = await rotateKek(h, keyring);
    const made = (await h.keyStore.listKeks(keyring)).find((k) => k.version === version);
    if (made !== undefined && version > newest && made.cmkVersion === cmkVersion && made.state === 'primary') return version;
  }
  throw new KeystrataError(
    'ROTATION_IN_PROGRESS',
    `The shred epoch of keyring "${keyring}" could not create its own KEK version under CMK v${cmkVersion}; nothing was destroyed. Run \`keystrata shred complete\` again.`,
    { details: { keyring } },
  );
}

/** A DEK row is erased when it is `destroyed` with its wrapped blob emptied. */
const erasedDek = (dek: DekRecord | undefined): boolean => dek === undefined || (dek.state === 'destroyed' && dek.wrapped === '');

/**
 * Step 0: erases the key rows of pending tombstones that are still live (a destroy killed between
 * its tombstone and the erase, or racing this epoch). A tombstoned key is destroyed by intent: it is
 * erased, never re-wrapped under the epoch's KEK. Returns the tombstones this epoch may make durable.
 *
 * @example
 * ```ts
 * const covered = await eraseTombstonedKeys(h, 'default', pending);
 * ```
 */
export async function eraseTombstonedKeys(h: HierarchyInternals, keyring: string, pending: readonly TombstoneRecord[]): Promise<TombstoneRecord[]> {
  const deks = pending.filter((t) => t.kind === 'dek');
  const rows = new Map<string, DekRecord>();
  for (let start = 0; start < deks.length; start += 500) {
    for (const chain of await h.keyStore.loadDekChains(deks.slice(start, start + 500).map((t) => t.id))) rows.set(chain.dek.id, chain.dek);
  }
  const at = now();
  for (const t of deks) {
    const row = rows.get(t.id);
    if (erasedDek(row)) continue;
    await h.keyStore.updateDek(t.id, { state: 'destroyed', wrapped: '', at });
    h.resolver.evict({ dekId: t.id });
    h.resolver.evict({ keyring, segment: row!.segment });
    await h.audit.record('destroy', `dek:${t.id}`, { keyring, reason: 'shred-epoch: tombstoned key still live' });
  }
  const keks = await h.keyStore.listKeks(keyring);
  for (const t of pending.filter((p) => p.kind === 'kek')) {
    const kek = keks.find((k) => String(k.version) === t.id);
    if (kek === undefined || (kek.state === 'destroyed' && kek.wrapped === '')) continue;
    await h.keyStore.updateKek(keyring, kek.version, { state: 'destroyed', wrapped: '', at });
    h.resolver.evict({ keyring, kekVersion: kek.version });
    await h.audit.record('destroy', `kek:${keyring}:v${kek.version}`, { keyring, version: kek.version, reason: 'shred-epoch: tombstoned key still live' });
  }
  return [...pending];
}

/**
 * Moves the live DEKs still wrapped by `old` (already destroyed in the key store: a writer that
 * read it before the epoch inserted them) under `target`, with the old KEK's bytes the epoch kept.
 * A DEK tombstoned meanwhile is erased instead.
 */
async function moveStragglers(h: HierarchyInternals, keyring: string, old: KekRecord, oldKey: SecretKey | undefined, target: KekRecord, targetKey: SecretKey): Promise<number> {
  let moved = 0;
  const tombstoned = new Set((await h.keyStore.listTombstones(keyring)).filter((t) => t.kind === 'dek').map((t) => t.id));
  for (let afterId: string | undefined; ; ) {
    const page = await h.keyStore.listDeks({ keyring, states: LIVE_DEK_STATES, kekVersionBelow: old.version + 1, limit: 1000, ...(afterId === undefined ? {} : { afterId }) });
    for (const dek of page.filter((d) => d.kekVersion === old.version)) {
      if (tombstoned.has(dek.id)) {
        await h.keyStore.updateDek(dek.id, { state: 'destroyed', wrapped: '', at: now() });
        h.resolver.evict({ dekId: dek.id });
        continue;
      }
      if (oldKey === undefined) {
        throw new KeystrataError(
          'KEY_IN_USE',
          `DEK ${dek.id} was written under KEK ${keyring} v${old.version} while the shred epoch destroyed it, and that KEK could not be kept to move it; run \`keystrata shred complete\` again and check that DEK's segment.`,
          { details: { keyring } },
        );
      }
      const key = unwrapDek(oldKey.exposeSecretBytes(), dek.wrapped, dek, { legacy: h.resolver.legacyKeys });
      let wrapped: string;
      try {
        wrapped = wrapDek(targetKey.exposeSecretBytes(), key.exposeSecretBytes(), { ...dek, kekVersion: target.version });
      } finally {
        key.destroy();
      }
      if (await h.keyStore.replaceDekWrapping(dek.id, dek.wrapped, { wrapped, kekVersion: target.version, at: now() })) moved++;
      h.resolver.deks.delete(`dek:${dek.id}`);
    }
    if (page.length < 1000) return moved;
    afterId = page.at(-1)!.id;
  }
}

/**
 * Steps 3 and 4: every surviving DEK re-wrapped in process under the epoch's KEK, then every
 * other KEK version destroyed (state `destroyed`, wrapped blob erased). A KEK is destroyed only
 * once no live DEK references it (checked again right before, and re-wrapped if a writer raced);
 * its bytes are kept in memory until after the destroy, so a DEK a writer inserted under it in
 * between is still moved (checked again right after). A tombstoned DEK is never re-wrapped.
 * Never re-wraps an old KEK under the new CMK: an old KEK must end with its CMK.
 *
 * @example
 * ```ts
 * const { rewrapped, destroyedKeks } = await moveDeksAndDestroyOldKeks(h, 'default', 4, plan.cutoff);
 * ```
 */
export async function moveDeksAndDestroyOldKeks(
  h: HierarchyInternals,
  keyring: string,
  kekVersion: number,
  cutoff: string,
  onProgress?: () => void,
): Promise<{ rewrapped: number; destroyedKeks: number[] }> {
  let rewrapped = (await rewrapDeks(h, keyring, undefined, onProgress)).rewrapped;
  const destroyedKeks: number[] = [];
  const leases = new KeyLeases();
  try {
    const cmks = await h.keyStore.listCmks(keyring);
    const target = (await h.keyStore.listKeks(keyring)).find((k) => k.version === kekVersion)!;
    const targetKey = await h.resolver.kekFor({ kek: target, cmk: cmks.find((c) => c.version === target.cmkVersion) }, leases);
    for (const kek of await h.keyStore.listKeks(keyring)) {
      // Only versions older than the epoch's: a newer one belongs to a rotation that started since.
      if (kek.version >= kekVersion || gone(kek.state)) continue;
      await assertStillPrimary(h, keyring, 'KEK', kekVersion);
      for (let attempt = 0; (await liveDeksUnder(h, keyring, kek)) > 0; attempt++) {
        if (attempt === 3) {
          throw new KeystrataError(
            'KEY_IN_USE',
            `Live DEKs of keyring "${keyring}" are still wrapped by KEK v${kek.version} after re-wrapping; nothing was destroyed. Run \`keystrata shred complete\` again.`,
            { details: { keyring } },
          );
        }
        rewrapped += (await rewrapDeks(h, keyring, undefined, onProgress)).rewrapped;
      }
      // Kept (leased) across the destroy, for DEKs a writer inserts under it meanwhile.
      const oldKey = await h.resolver.kekFor({ kek, cmk: cmks.find((c) => c.version === kek.cmkVersion) }, leases).catch(() => undefined);
      await h.keyStore.putTombstone({ kind: 'kek', id: String(kek.version), keyring, segment: '', destroyedAt: cutoff, durableAt: null });
      await h.keyStore.updateKek(keyring, kek.version, { state: 'destroyed', wrapped: '', at: now() });
      h.resolver.evict({ keyring, kekVersion: kek.version });
      rewrapped += await moveStragglers(h, keyring, kek, oldKey, target, targetKey);
      await h.audit.record('destroy', `kek:${keyring}:v${kek.version}`, { keyring, version: kek.version, reason: 'shred-epoch' });
      destroyedKeks.push(kek.version);
    }
  } finally {
    leases.release();
  }
  return { rewrapped, destroyedKeks };
}

/**
 * Destroys every HSM object that is, or claims to be, CMK `version` of the keyring: found by the key
 * store's label and id and by the label this hierarchy gives that version (any id), so an edited
 * row cannot hide the object. Returns once none is left (confirmed by label in the HSM).
 *
 * @example
 * ```ts
 * await destroyCmkObjects(h, 'default', cmkRecord); // throws unless no such object is left
 * ```
 */
export async function destroyCmkObjects(h: HierarchyInternals, keyring: string, cmk: CmkRecord): Promise<void> {
  const findCmks = h.rootKey.findCmks?.bind(h.rootKey);
  if (findCmks === undefined) {
    throw new KeystrataError(
      'CONFIG_INVALID',
      `The root key (${h.rootKey.description}) cannot find CMK objects by label, so the shred epoch cannot confirm CMK ${keyring} v${cmk.version} is gone and marks nothing durable; use the PKCS#11 root key, or make your RootKey wrapper forward \`findCmks\`.`,
      { details: { keyring } },
    );
  }
  const labels = [...new Set([cmk.hsmLabel, `${h.cmkLabelPrefix}/${keyring}/v${cmk.version}`])];
  const refs: CmkReference[] = [{ label: cmk.hsmLabel, id: cmk.hsmId }];
  for (const label of labels) refs.push(...(await findCmks(label)));
  for (const ref of refs) if (await h.rootKey.hasCmk(ref)) await h.rootKey.destroyCmk(ref);
  for (const label of labels) {
    if ((await findCmks(label)).length > 0) {
      throw new KeystrataError(
        'HSM_OPERATION_FAILED',
        `An object labelled as CMK ${keyring} v${cmk.version} is still on the token after destroying; remove it with the token's tools and run \`keystrata shred complete\` again.`,
        { details: { keyring } },
      );
    }
  }
}

/**
 * Confirms in the HSM (by label) that no object of the keyring's CMK versions below `belowVersion`
 * exists; throws `KEYSTORE_TAMPERED` when one does although the key store calls it gone. Used
 * before trusting rows that say every CMK version was destroyed.
 *
 * @example
 * ```ts
 * await assertCmksGoneInHsm(h, 'default', Infinity);
 * ```
 */
export async function assertCmksGoneInHsm(h: HierarchyInternals, keyring: string, belowVersion: number): Promise<void> {
  const findCmks = h.rootKey.findCmks?.bind(h.rootKey);
  if (findCmks === undefined) {
    throw new KeystrataError(
      'CONFIG_INVALID',
      `The root key (${h.rootKey.description}) cannot find CMK objects by label, so the shred epoch cannot confirm keyring "${keyring}"'s CMK versions are gone and marks nothing durable; use the PKCS#11 root key, or make your RootKey wrapper forward \`findCmks\`.`,
      { details: { keyring } },
    );
  }
  for (const cmk of await h.keyStore.listCmks(keyring)) {
    if (cmk.version >= belowVersion) continue;
    const labels = [...new Set([cmk.hsmLabel, `${h.cmkLabelPrefix}/${keyring}/v${cmk.version}`])];
    let present = await h.rootKey.hasCmk({ label: cmk.hsmLabel, id: cmk.hsmId });
    for (const label of labels) present ||= (await findCmks(label)).length > 0;
    if (present) {
      throw new KeystrataError(
        'KEYSTORE_TAMPERED',
        `The key store says CMK ${keyring} v${cmk.version} is ${cmk.state}, but the HSM still holds it: its row was edited. Nothing was marked durable; restore the key store from a trusted backup, then run \`keystrata shred complete\` again.`,
        { details: { keyring } },
      );
    }
  }
}

/**
 * Step 5: every CMK version but the epoch's destroyed inside the HSM (state `retired`), found by
 * label as well as by the key store's id; versions the key store already calls gone are checked
 * (and destroyed) in the HSM too. After this, every old wrapped blob (WAL, dead tuples, backups)
 * ends at a CMK that no longer exists.
 *
 * @example
 * ```ts
 * const retired = await destroyOldCmks(h, 'default', cmk.version, plan.cutoff);
 * ```
 */
export async function destroyOldCmks(h: HierarchyInternals, keyring: string, cmkVersion: number, cutoff: string): Promise<number[]> {
  const retired: number[] = [];
  for (const cmk of await h.keyStore.listCmks(keyring)) {
    if (cmk.version >= cmkVersion) continue;
    if (gone(cmk.state)) {
      await destroyCmkObjects(h, keyring, cmk);
      continue;
    }
    await assertStillPrimary(h, keyring, 'CMK', cmkVersion);
    const keks = await h.keyStore.listKeks(keyring);
    if (keks.some((k) => k.cmkVersion === cmk.version && !gone(k.state))) {
      throw new KeystrataError('KEY_IN_USE', `CMK ${keyring} v${cmk.version} still wraps a live KEK; nothing was destroyed. Run \`keystrata shred complete\` again.`, { details: { keyring } });
    }
    await h.keyStore.putTombstone({ kind: 'cmk', id: String(cmk.version), keyring, segment: '', destroyedAt: cutoff, durableAt: null });
    await destroyCmkObjects(h, keyring, cmk);
    await h.keyStore.setCmkState(keyring, cmk.version, 'retired', now());
    await h.audit.record('retire', `cmk:${keyring}:v${cmk.version}`, { keyring, version: cmk.version, reason: 'shred-epoch' });
    retired.push(cmk.version);
  }
  return retired;
}
