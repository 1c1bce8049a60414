import { KeystrataError } from '../errors/keystrata-error.js';
import type { DekRecord, KeyState } from '../key-store/records.js';
import { completeShreds } from '../shred/complete-shreds.js';
import { destroyCmkObjects } from '../shred/epoch-steps.js';
import { now, type HierarchyInternals } from './internals.js';

/**
 * A key to revoke: one DEK, every DEK version of a segment, a KEK version, or a whole CMK
 * (every version of a keyring's root).
 *
 * @example
 * ```ts
 * const ref: KeyReference = { kind: 'segment', segment: 'tenantId:acme' }; // every DEK version of the segment
 * await hierarchy.disable(ref);
 * await hierarchy.destroy({ kind: 'kek', version: 1, keyring: 'billing' });
 * ```
 */
export type KeyReference =
  | { readonly kind: 'dek'; readonly id: string }
  | { readonly kind: 'segment'; readonly segment: string; readonly keyring?: string }
  | { readonly kind: 'kek'; readonly version: number; readonly keyring?: string }
  | { readonly kind: 'cmk'; readonly keyring?: string };

/**
 * What a revocation affects (and, for a dry run, would affect).
 *
 * @example
 * ```ts
 * const impact = await hierarchy.destroy({ kind: 'segment', segment: 'tenantId:acme' }, { dryRun: true });
 * console.log(`${impact.deks} DEK(s) would become unreadable in ${impact.segments.join(', ')}`);
 * const done = await hierarchy.destroy({ kind: 'segment', segment: 'tenantId:acme' });
 * done.durableAt; // when the shred became durable; null while it awaits an epoch
 * ```
 */
export interface RevocationImpact {
  readonly action: 'disable' | 'enable' | 'destroy';
  readonly subject: string;
  readonly keks: number;
  readonly deks: number;
  /** Up to 50 affected segments. */
  readonly segments: readonly string[];
  readonly dryRun: boolean;
  /**
   * For a destroy: when the shred became durable (every old wrapped blob ends at a CMK version
   * destroyed in the HSM), or `null` while it awaits a shred epoch (`durable: 'deferred'`).
   */
  readonly durableAt?: string | null;
}

/**
 * Options of a revocation.
 *
 * @example
 * ```ts
 * await hierarchy.destroy({ kind: 'dek', id: dekId }, { durable: 'deferred' }); // completeShreds() later
 * const options: RevocationOptions = { confirm: 'tenant-acme' }; // a CMK needs its keyring's name typed out
 * await hierarchy.disable({ kind: 'cmk', keyring: 'tenant-acme' }, options);
 * ```
 */
export interface RevocationOptions {
  /** Report what would become unreadable, change nothing. */
  readonly dryRun?: boolean;
  /** Required to revoke a CMK: the keyring's name, typed out. */
  readonly confirm?: string;
  /**
   * For a destroy: `now` (default) runs a shred epoch for the keyring at once, so the destroyed
   * key is durably gone when the call returns; `deferred` only records it, and a later
   * `completeShreds` (CLI: `keystrata shred complete`) makes many shreds durable in one epoch.
   */
  readonly durable?: 'now' | 'deferred';
}

async function allDeks(h: HierarchyInternals, query: { keyring: string; segment?: string }): Promise<DekRecord[]> {
  const out: DekRecord[] = [];
  for (;;) {
    const page = await h.keyStore.listDeks({ ...query, limit: 1000, ...(out.length ? { afterId: out.at(-1)!.id } : {}) });
    out.push(...page);
    if (page.length < 1000) return out;
  }
}

function impactOf(action: RevocationImpact['action'], subject: string, deks: readonly DekRecord[], keks: number, dryRun: boolean): RevocationImpact {
  return { action, subject, keks, deks: deks.length, segments: [...new Set(deks.map((d) => d.segment))].slice(0, 50), dryRun };
}

/** The state a re-enabled key returns to: primary if it is the newest version, else enabled. */
function reenabledState(version: number, versions: readonly { version: number; state: KeyState }[]): KeyState {
  const newest = Math.max(...versions.filter((v) => v.state !== 'destroyed' && v.state !== 'retired').map((v) => v.version));
  return version === newest ? 'primary' : 'enabled';
}

function durableMode(options: RevocationOptions): 'now' | 'deferred' {
  const mode = options.durable ?? 'now';
  if (mode !== 'now' && mode !== 'deferred') throw new KeystrataError('CONFIG_INVALID', "durable must be 'now' or 'deferred'.");
  return mode;
}

/**
 * Makes a destroy in `keyring` durable now (one shred epoch), or leaves it pending; returns when
 * the destroyed keys' tombstones became durable (the latest), or null while any is pending.
 */
async function finishDestroy(h: HierarchyInternals, keyring: string, mode: 'now' | 'deferred', kind: 'dek' | 'kek', ids: readonly string[]): Promise<string | null> {
  if (mode === 'now') await completeShreds(h, keyring);
  const wanted = new Set(ids);
  const tombstones = (await h.keyStore.listTombstones(keyring)).filter((t) => t.kind === kind && wanted.has(t.id));
  if (tombstones.length < wanted.size || tombstones.some((t) => t.durableAt === null)) return null;
  return tombstones
    .map((t) => t.durableAt!)
    .sort()
    .at(-1)!;
}

function assertChangeable(what: string, state: KeyState): void {
  if (state === 'destroyed' || state === 'retired') throw new KeystrataError('KEY_DESTROYED', `${what} was already ${state}; that cannot be undone.`);
}

/**
 * Disables, re-enables or destroys (crypto-shreds) a key and evicts it from this process's cache at
 * once. The key store logs each change with its revocation sequence number; other processes evict
 * the key when they learn of it (PostgreSQL NOTIFY, else within `cache.revocationCheckMs`).
 */
export async function changeKeyState(h: HierarchyInternals, action: RevocationImpact['action'], ref: KeyReference, options: RevocationOptions = {}): Promise<RevocationImpact> {
  const dryRun = options.dryRun === true;
  const keyring = ref.kind === 'dek' ? '' : (ref.keyring ?? h.defaultKeyring);
  const at = now();
  const target = action === 'disable' ? 'disabled' : action === 'destroy' ? 'destroyed' : undefined;
  const erase = action === 'destroy' ? { wrapped: '' } : {};
  const mode = durableMode(options);

  if (ref.kind === 'dek' || ref.kind === 'segment') {
    const deks = ref.kind === 'dek' ? (await h.keyStore.loadDekChains([ref.id])).map((c) => c.dek) : await allDeks(h, { keyring, segment: ref.segment });
    const subject = ref.kind === 'dek' ? `dek:${ref.id}` : `segment:${keyring}:${ref.segment}`;
    if (deks.length === 0) throw new KeystrataError('KEY_NOT_FOUND', `No DEK matches ${subject}.`);
    // Enabling a destroyed key is refused (issue 11 §5), never reported as done.
    if (action === 'enable' && deks.every((d) => d.state === 'destroyed')) {
      throw new KeystrataError('KEY_DESTROYED', `${subject === `dek:${deks[0]!.id}` ? `DEK ${deks[0]!.id}` : `Every DEK of ${subject}`} was destroyed; that cannot be undone.`, {
        details: { key: subject },
      });
    }
    if (dryRun) return impactOf(action, subject, deks, 0, dryRun);
    for (const dek of deks) {
      // A key destroyed before tombstones existed gets one now (kept if it has one), so an epoch covers it.
      if (action === 'destroy') await h.keyStore.putTombstone({ kind: 'dek', id: dek.id, keyring: dek.keyring, segment: dek.segment, destroyedAt: at, durableAt: null });
      // A key still live under a tombstone (a destroy killed before its erase) is destroyed now: an
      // earlier epoch's "durable" did not cover it, so its shred is pending again.
      if (action === 'destroy' && (dek.state !== 'destroyed' || dek.wrapped !== '')) await h.keyStore.reopenTombstone('dek', dek.keyring, dek.id, at);
      if (dek.state === 'destroyed' && (action !== 'destroy' || dek.wrapped === '')) continue;
      const state =
        target ??
        reenabledState(
          dek.version,
          deks.filter((d) => d.segment === dek.segment),
        );
      await h.keyStore.updateDek(dek.id, { state, ...erase, at });
      h.resolver.evict({ dekId: dek.id });
      h.resolver.evict({ keyring: dek.keyring, segment: dek.segment });
    }
    await h.audit.record(action, subject, { deks: deks.length, ...(action === 'destroy' ? { durable: mode } : {}) });
    if (action !== 'destroy') return impactOf(action, subject, deks, 0, dryRun);
    await h.keyStore.purgeErased('quick');
    const keyrings = [...new Set(deks.map((d) => d.keyring))];
    const durable = await Promise.all(
      keyrings.map((ring) =>
        finishDestroy(
          h,
          ring,
          mode,
          'dek',
          deks.filter((d) => d.keyring === ring).map((d) => d.id),
        ),
      ),
    );
    const durableAt = durable.some((d) => d === null) ? null : durable.sort().at(-1)!;
    return { ...impactOf(action, subject, deks, 0, dryRun), durableAt };
  }

  if (ref.kind === 'kek') {
    const keks = await h.keyStore.listKeks(keyring);
    const kek = keks.find((k) => k.version === ref.version);
    const subject = `kek:${keyring}:v${ref.version}`;
    if (kek === undefined) throw new KeystrataError('KEY_NOT_FOUND', `KEK ${keyring} v${ref.version} does not exist.`);
    assertChangeable(`KEK ${keyring} v${ref.version}`, kek.state);
    const deks = (await allDeks(h, { keyring })).filter((d) => d.kekVersion === ref.version && d.state !== 'destroyed');
    if (dryRun) return impactOf(action, subject, deks, 1, dryRun);
    if (action === 'destroy') {
      await h.keyStore.putTombstone({ kind: 'kek', id: String(ref.version), keyring, segment: '', destroyedAt: at, durableAt: null });
      await h.keyStore.reopenTombstone('kek', keyring, String(ref.version), at);
    }
    await h.keyStore.updateKek(keyring, ref.version, { state: target ?? reenabledState(kek.version, keks), ...erase, at });
    h.resolver.evict({ keyring, kekVersion: ref.version });
    await h.audit.record(action, subject, { deks: deks.length, ...(action === 'destroy' ? { durable: mode } : {}) });
    if (action !== 'destroy') return impactOf(action, subject, deks, 1, dryRun);
    await h.keyStore.purgeErased('quick');
    return { ...impactOf(action, subject, deks, 1, dryRun), durableAt: await finishDestroy(h, keyring, mode, 'kek', [String(ref.version)]) };
  }

  // CMK: every version of the keyring's root; guarded by a typed-out confirmation.
  const cmks = await h.keyStore.listCmks(keyring);
  const subject = `cmk:${keyring}`;
  if (cmks.length === 0) throw new KeystrataError('KEY_NOT_FOUND', `Keyring "${keyring}" has no CMK.`);
  const keks = (await h.keyStore.listKeks(keyring)).filter((k) => k.state !== 'destroyed');
  const deks = (await allDeks(h, { keyring })).filter((d) => d.state !== 'destroyed');
  const impact = impactOf(action, subject, deks, keks.length, dryRun);
  if (action === 'enable' && cmks.every((c) => c.state === 'destroyed' || c.state === 'retired')) {
    throw new KeystrataError('KEY_DESTROYED', `Every CMK version of keyring "${keyring}" was destroyed; that cannot be undone.`, { details: { key: subject } });
  }
  if (dryRun) return impact;
  if (action !== 'enable' && options.confirm !== keyring) {
    throw new KeystrataError(
      'CONFIRMATION_REQUIRED',
      `Revoking CMK "${keyring}" makes ${impact.keks} KEK(s) and ${impact.deks} DEK(s) unreadable; pass confirm: "${keyring}" (CLI: --confirm ${keyring}) after a dry run.`,
    );
  }
  for (const cmk of cmks) {
    if (cmk.state === 'retired' || cmk.state === 'destroyed') {
      // The row says gone; the HSM is checked (and cleared) before the keyring is called durably gone.
      if (action === 'destroy') await destroyCmkObjects(h, keyring, cmk);
      continue;
    }
    if (action === 'destroy') {
      // Found by label as well as by the row's id (an edited row cannot hide the object), then confirmed gone.
      await destroyCmkObjects(h, keyring, cmk);
      // Destroyed inside the HSM: durable at once.
      await h.keyStore.putTombstone({ kind: 'cmk', id: String(cmk.version), keyring, segment: '', destroyedAt: at, durableAt: at });
    }
    await h.keyStore.setCmkState(keyring, cmk.version, target ?? reenabledState(cmk.version, cmks), at);
  }
  h.resolver.evict({ keyring });
  await h.audit.record(action, subject, { keks: impact.keks, deks: impact.deks });
  if (action !== 'destroy') return impact;
  // Every key of the keyring now ends at a CMK the HSM no longer holds: pending shreds are durable too.
  await h.keyStore.markTombstonesDurable(keyring, at, at);
  return { ...impact, durableAt: at };
}
