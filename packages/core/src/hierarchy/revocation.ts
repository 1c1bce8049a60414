import { KeystrataError } from '../errors/keystrata-error.js';
import type { DekRecord, KeyState } from '../key-store/records.js';
import { now, type HierarchyInternals } from './internals.js';

/**
 * A key to revoke: one DEK, every DEK version of a segment, a KEK version, or a whole CMK
 * (every version of a keyring's root).
 */
export type KeyReference =
  | { readonly kind: 'dek'; readonly id: string }
  | { readonly kind: 'segment'; readonly segment: string; readonly keyring?: string }
  | { readonly kind: 'kek'; readonly version: number; readonly keyring?: string }
  | { readonly kind: 'cmk'; readonly keyring?: string };

/** What a revocation affects (and, for a dry run, would affect). */
export interface RevocationImpact {
  readonly action: 'disable' | 'enable' | 'destroy';
  readonly subject: string;
  readonly keks: number;
  readonly deks: number;
  /** Up to 50 affected segments. */
  readonly segments: readonly string[];
  readonly dryRun: boolean;
}

/** Options of a revocation. */
export interface RevocationOptions {
  /** Report what would become unreadable, change nothing. */
  readonly dryRun?: boolean;
  /** Required to revoke a CMK: the keyring's name, typed out. */
  readonly confirm?: string;
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

function assertChangeable(what: string, state: KeyState): void {
  if (state === 'destroyed' || state === 'retired') throw new KeystrataError('KEY_DESTROYED', `${what} was already ${state}; that cannot be undone.`);
}

/**
 * Disables, re-enables or destroys (crypto-shreds) a key and evicts it from this process's cache at
 * once. Other processes stop using it within their cache's `maxAgeMs`.
 */
export async function changeKeyState(h: HierarchyInternals, action: RevocationImpact['action'], ref: KeyReference, options: RevocationOptions = {}): Promise<RevocationImpact> {
  const dryRun = options.dryRun === true;
  const keyring = ref.kind === 'dek' ? '' : (ref.keyring ?? h.defaultKeyring);
  const at = now();
  const target = action === 'disable' ? 'disabled' : action === 'destroy' ? 'destroyed' : undefined;
  const erase = action === 'destroy' ? { wrapped: '' } : {};

  if (ref.kind === 'dek' || ref.kind === 'segment') {
    const deks = ref.kind === 'dek'
      ? (await h.keyStore.loadDekChains([ref.id])).map((c) => c.dek)
      : await allDeks(h, { keyring, segment: ref.segment });
    const subject = ref.kind === 'dek' ? `dek:${ref.id}` : `segment:${keyring}:${ref.segment}`;
    if (deks.length === 0) throw new KeystrataError('KEY_NOT_FOUND', `No DEK matches ${subject}.`);
    if (!dryRun) {
      for (const dek of deks) {
        if (dek.state === 'destroyed') continue;
        const state = target ?? reenabledState(dek.version, deks.filter((d) => d.segment === dek.segment));
        await h.keyStore.updateDek(dek.id, { state, ...erase, at });
        h.resolver.evict({ dekId: dek.id });
        h.resolver.evict({ keyring: dek.keyring, segment: dek.segment });
      }
      await h.audit.record(action, subject, { deks: deks.length });
    }
    return impactOf(action, subject, deks, 0, dryRun);
  }

  if (ref.kind === 'kek') {
    const keks = await h.keyStore.listKeks(keyring);
    const kek = keks.find((k) => k.version === ref.version);
    const subject = `kek:${keyring}:v${ref.version}`;
    if (kek === undefined) throw new KeystrataError('KEY_NOT_FOUND', `KEK ${keyring} v${ref.version} does not exist.`);
    assertChangeable(`KEK ${keyring} v${ref.version}`, kek.state);
    const deks = (await allDeks(h, { keyring })).filter((d) => d.kekVersion === ref.version && d.state !== 'destroyed');
    if (!dryRun) {
      await h.keyStore.updateKek(keyring, ref.version, { state: target ?? reenabledState(kek.version, keks), ...erase, at });
      h.resolver.evict({ keyring, kekVersion: ref.version });
      await h.audit.record(action, subject, { deks: deks.length });
    }
    return impactOf(action, subject, deks, 1, dryRun);
  }

  // CMK: every version of the keyring's root; guarded by a typed-out confirmation.
  const cmks = await h.keyStore.listCmks(keyring);
  const subject = `cmk:${keyring}`;
  if (cmks.length === 0) throw new KeystrataError('KEY_NOT_FOUND', `Keyring "${keyring}" has no CMK.`);
  const keks = (await h.keyStore.listKeks(keyring)).filter((k) => k.state !== 'destroyed');
  const deks = (await allDeks(h, { keyring })).filter((d) => d.state !== 'destroyed');
  const impact = impactOf(action, subject, deks, keks.length, dryRun);
  if (dryRun) return impact;
  if (action !== 'enable' && options.confirm !== keyring) {
    throw new KeystrataError('CONFIRMATION_REQUIRED', `Revoking CMK "${keyring}" makes ${impact.keks} KEK(s) and ${impact.deks} DEK(s) unreadable; pass confirm: "${keyring}" (CLI: --confirm ${keyring}) after a dry run.`);
  }
  for (const cmk of cmks) {
    if (cmk.state === 'retired' || cmk.state === 'destroyed') continue;
    if (action === 'destroy') {
      const ref = { label: cmk.hsmLabel, id: cmk.hsmId };
      if (await h.rootKey.hasCmk(ref)) await h.rootKey.destroyCmk(ref);
    }
    await h.keyStore.setCmkState(keyring, cmk.version, target ?? reenabledState(cmk.version, cmks), at);
  }
  h.resolver.evict({ keyring });
  await h.audit.record(action, subject, { keks: impact.keks, deks: impact.deks });
  return impact;
}
