import { setTimeout as sleep } from 'node:timers/promises';
import { KeyLeases } from '../cache/key-leases.js';
import type { ErrorCode } from '../errors/error-codes.js';
import { KeystrataError } from '../errors/keystrata-error.js';
import type { DekChain, DekRecord, KekRecord } from '../key-store/records.js';
import { isLegacyWrappedDek, unwrapDek, wrapDek } from '../key-wrap/dek-wrap.js';
import { kekBinding } from '../key-wrap/kek-binding.js';
import type { SecretKey } from '../secret/secret-key.js';
import { now, type HierarchyInternals, type ProgressListener } from './internals.js';
import { assertUsable } from './key-state.js';

/**
 * One DEK {@link rewrapDeks} could not move, with the real reason.
 *
 * @example
 * ```ts
 * const { failures } = await hierarchy.rewrapDeks();
 * for (const { dek, code, message } of failures) console.error(`DEK ${dek} not moved (${code}): ${message}`);
 * ```
 */
export interface RewrapFailure {
  readonly dek: string;
  readonly code: ErrorCode;
  readonly message: string;
}

/**
 * Result of {@link rewrapDeks}.
 *
 * @example
 * ```ts
 * const result = await hierarchy.rewrapDeks({ batchSize: 500 });
 * console.log(`${result.rewrapped} DEK(s) now under KEK v${result.kekVersion}; ${result.skipped} skipped, ${result.failed} failed`);
 * if (result.failed > 0) process.exitCode = 1; // reasons in result.failures
 * ```
 */
export interface RewrapResult {
  readonly keyring: string;
  readonly kekVersion: number;
  /** DEKs now under the primary KEK in the bound format (docs/format.md). */
  readonly rewrapped: number;
  /** DEKs not moved (they keep their wrapping); `failures` says why, per DEK (first 100). */
  readonly failed: number;
  readonly failures: readonly RewrapFailure[];
  /** DEKs another process changed meanwhile (destroyed, or already moved): nothing left to do for them. */
  readonly skipped: number;
  /** Legacy KEK versions that got their binding. */
  readonly boundKeks: number;
}

const LIVE = ['primary', 'enabled', 'disabled'] as const;
const RETRYABLE: ReadonlySet<string> = new Set(['KEYSTORE_UNAVAILABLE', 'HSM_UNAVAILABLE']);
const ATTEMPTS = 4;

/** Adds the binding (docs/format.md) to every legacy KEK version of a keyring; returns how many. */
async function bindLegacyKeks(h: HierarchyInternals, keyring: string): Promise<number> {
  const legacy = (await h.keyStore.listKeks(keyring)).filter((k) => (k.binding ?? '') === '' && k.wrapped !== '' && k.state !== 'destroyed');
  if (legacy.length === 0) return 0;
  // A hierarchy that refuses legacy keys never launders one: an unbound KEK there is an edit of the store.
  if ((await h.resolver.legacyPolicy()) === 'refuse') {
    throw new KeystrataError(
      'KEYSTORE_TAMPERED',
      `KEK version(s) ${legacy.map((k) => k.version).join(', ')} of keyring "${keyring}" have no binding, which this key store refuses (it was started with key bindings, or \`legacyKeys: "refuse"\`); restore the key store from a trusted backup.`,
      { details: { keyring } },
    );
  }
  const cmks = new Map((await h.keyStore.listCmks(keyring)).map((c) => [c.version, c]));
  let bound = 0;
  for (const kek of legacy) {
    const cmk = cmks.get(kek.cmkVersion);
    assertUsable(`CMK ${keyring} v${kek.cmkVersion}`, cmk?.state);
    const key = await h.rootKey.unwrapKek({ label: cmk!.hsmLabel, id: cmk!.hsmId }, Buffer.from(kek.wrapped, 'base64'));
    let binding: string;
    try {
      binding = kekBinding(key.exposeSecretBytes(), keyring, kek.version);
    } finally {
      key.destroy();
    }
    await h.keyStore.updateKek(keyring, kek.version, { binding, at: now() });
    await h.audit.record('rewrap', `kek:${keyring}:v${kek.version}`, { keyring, version: kek.version, binding: 'added' });
    bound++;
  }
  return bound;
}

/** Whether a DEK still needs moving: under an older KEK version, or in the legacy unbound format. */
const needsRewrap = (dek: DekRecord, target: number): boolean => dek.kekVersion !== target || isLegacyWrappedDek(dek.wrapped);

/**
 * Moves one DEK under `target`, starting from its chain as just read and re-reading it after a
 * failed attempt; writes with compare-and-set, so a concurrent destroy or rewrap is never undone.
 * Retries what is retryable; returns the outcome.
 */
async function rewrapOne(h: HierarchyInternals, id: string, first: DekChain | undefined, target: KekRecord, newKek: SecretKey, leases: KeyLeases): Promise<'rewrapped' | 'skipped' | KeystrataError> {
  let chain = first;
  for (let attempt = 1; ; attempt++) {
    try {
      if (attempt > 1) [chain] = await h.keyStore.loadDekChains([id]);
      if (chain === undefined || !(LIVE as readonly string[]).includes(chain.dek.state) || !needsRewrap(chain.dek, target.version)) return 'skipped';
      const { dek, kek } = chain;
      // The real reason when the old KEK cannot be used: its state, as the key store has it now.
      assertUsable(`KEK ${dek.keyring} v${dek.kekVersion}`, kek?.state);
      const oldKek = await h.resolver.kekFor(chain, leases);
      const legacy = isLegacyWrappedDek(dek.wrapped) ? await h.resolver.legacyPolicy() : h.resolver.legacyKeys;
      let key: SecretKey;
      try {
        key = unwrapDek(oldKek.exposeSecretBytes(), dek.wrapped, dek, { legacy });
      } catch (error) {
        await h.audit.recordQuietly('unwrap-failed', `dek:${dek.id}`, { keyring: dek.keyring, segment: dek.segment });
        throw error;
      }
      let wrapped: string;
      try {
        wrapped = wrapDek(newKek.exposeSecretBytes(), key.exposeSecretBytes(), { ...dek, kekVersion: target.version });
      } finally {
        key.destroy();
      }
      if (await h.keyStore.replaceDekWrapping(dek.id, dek.wrapped, { wrapped, kekVersion: target.version, at: now() })) {
        h.resolver.deks.delete(`dek:${dek.id}`); // same key bytes; its cached KEK version is now stale
        return 'rewrapped';
      }
      // Changed under us: read it again (destroyed or already moved ends as 'skipped').
    } catch (error) {
      if (!KeystrataError.isInstance(error)) throw error;
      if (!RETRYABLE.has(error.code) || attempt >= ATTEMPTS) return error;
      await sleep(25 * attempt);
    }
    if (attempt >= ATTEMPTS) return new KeystrataError('KEYSTORE_UNAVAILABLE', `DEK ${id} kept changing while it was being rewrapped; run \`keystrata rewrap\` again.`);
  }
}

/**
 * Moves every live DEK of a keyring under the primary KEK version in the bound format (docs/format.md),
 * in batches, without touching data; first adds the binding of legacy KEK versions. Each failure
 * carries its real reason; retryable ones (key store or HSM briefly unavailable) are retried.
 * Naturally resumable: a rerun finds what is left.
 */
export async function rewrapDeks(h: HierarchyInternals, keyring: string, batchSize = 500, onProgress?: ProgressListener): Promise<RewrapResult> {
  const leases = new KeyLeases();
  try {
    const boundKeks = await bindLegacyKeks(h, keyring);
    const target = await h.resolver.primaryKek(keyring);
    const newKek = await h.resolver.kekFor(target, leases);
    let rewrapped = 0;
    let skipped = 0;
    const failures: RewrapFailure[] = [];
    let failed = 0;
    let afterId: string | undefined;
    for (;;) {
      const batch = await h.keyStore.listDeks({ keyring, states: LIVE, limit: batchSize, ...(afterId === undefined ? {} : { afterId }) });
      if (batch.length === 0) break;
      const todo = batch.filter((dek) => needsRewrap(dek, target.kek.version)).map((dek) => dek.id);
      // One query for the batch's chains (current KEK and CMK states included), re-read per DEK only on a retry.
      const chains = new Map(todo.length === 0 ? [] : (await h.keyStore.loadDekChains(todo)).map((c) => [c.dek.id, c]));
      for (const id of todo) {
        const outcome = await rewrapOne(h, id, chains.get(id), target.kek, newKek, leases);
        if (outcome === 'rewrapped') rewrapped++;
        else if (outcome === 'skipped') skipped++;
        else {
          failed++;
          if (failures.length < 100) failures.push({ dek: id, code: outcome.code, message: outcome.message });
        }
      }
      afterId = batch.at(-1)!.id;
      onProgress?.({ phase: 'rewrap DEKs', done: rewrapped + failed + skipped });
    }
    const reasons = [...new Set(failures.map((f) => f.code))].join(',');
    await h.audit.record('rewrap', `deks:${keyring}`, { kekVersion: target.kek.version, rewrapped, failed, skipped, boundKeks, ...(reasons ? { reasons } : {}) });
    return { keyring, kekVersion: target.kek.version, rewrapped, failed, failures, skipped, boundKeks };
  } finally {
    leases.release();
  }
}

/**
 * Counts of wrapped keys still in the legacy, unbound formats, from {@link legacyKeyCounts}.
 *
 * @example
 * ```ts
 * const { keks, deks } = await hierarchy.legacyKeys({ keyring: 'default' });
 * if (keks + deks === 0) console.log("every key is bound: legacyKeys: 'refuse' can be set");
 * ```
 */
export interface LegacyKeyCounts {
  readonly keyring: string;
  /** KEK versions without a binding. */
  readonly keks: number;
  /** Live DEKs in the plain RFC 5649 format. */
  readonly deks: number;
}

/**
 * How many keys of a keyring `keystrata rewrap` still has to migrate to the bound formats.
 *
 * @example
 * ```ts
 * await legacyKeyCounts(h, 'default'); // { keyring: 'default', keks: 0, deks: 12 }
 * ```
 */
export async function legacyKeyCounts(h: HierarchyInternals, keyring: string): Promise<LegacyKeyCounts> {
  const keks = (await h.keyStore.listKeks(keyring)).filter((k) => (k.binding ?? '') === '' && k.wrapped !== '' && k.state !== 'destroyed').length;
  let deks = 0;
  let afterId: string | undefined;
  for (;;) {
    const batch = await h.keyStore.listDeks({ keyring, states: LIVE, limit: 1000, ...(afterId === undefined ? {} : { afterId }) });
    if (batch.length === 0) break;
    deks += batch.filter((d) => isLegacyWrappedDek(d.wrapped)).length;
    afterId = batch.at(-1)!.id;
  }
  return { keyring, keks, deks };
}
