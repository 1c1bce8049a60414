import { randomBytes } from 'node:crypto';
import { kwpUnwrap, kwpWrap } from '../crypto/aes-kwp.js';
import { KeystrataError } from '../errors/keystrata-error.js';
import { KeyCache, type KeyCacheOptions } from '../cache/key-cache.js';
import type { KeyStore } from '../key-store/key-store.js';
import type { DekChain, DekRecord, KekRecord } from '../key-store/records.js';
import type { RootKey } from '../root-key/root-key.js';
import { SecretKey } from '../secret/secret-key.js';
import { assertChainUsable, assertUsable } from './key-state.js';
import type { AuditLog } from './audit-log.js';

/** What the cache remembers about an unwrapped DEK. */
export interface DekMeta {
  readonly id: string;
  readonly keyring: string;
  readonly segment: string;
  readonly kekVersion: number;
}

/** An unwrapped DEK ready for use. */
export interface UsableDek {
  readonly key: SecretKey;
  readonly meta: DekMeta;
}

const segmentKey = (keyring: string, segment: string): string => `${keyring}\u0000${segment}`;

/**
 * Finds, unwraps and caches keys: DEKs by id for decryption (one batched key-store query for all
 * misses), the current DEK of each segment for encryption (created on first use), and KEKs through
 * the root key (one HSM call per KEK version, shared by concurrent callers).
 */
export class KeyResolver {
  readonly deks: KeyCache<DekMeta>;
  readonly keks: KeyCache<{ keyring: string; version: number }>;
  /** Per-field blind-index keys derived from a keyring's index DEK. */
  readonly fieldKeys: KeyCache<{ keyring: string; dekId: string }>;
  readonly #current = new Map<string, { id: string; expiresAt: number }>();
  readonly #pending = new Map<string, Promise<SecretKey>>();
  readonly #maxAgeMs: number;
  /** See {@link KeyCacheOptions.writeRecheckMs}; DEK rotation waits this long before verifying. */
  readonly writeRecheckMs: number;

  constructor(
    private readonly rootKey: RootKey,
    private readonly keyStore: KeyStore,
    private readonly audit: AuditLog,
    cache: KeyCacheOptions,
  ) {
    this.deks = new KeyCache(cache);
    this.keks = new KeyCache(cache);
    this.fieldKeys = new KeyCache(cache);
    this.#maxAgeMs = cache.maxAgeMs ?? 60_000;
    this.writeRecheckMs = cache.writeRecheckMs ?? 1000;
    if (!(this.writeRecheckMs >= 0)) throw new KeystrataError('CONFIG_INVALID', 'cache.writeRecheckMs must be zero or more.');
  }

  /** Unwrapped DEKs for `ids`; a DEK that cannot be used maps to its typed error. */
  async decryptionKeys(ids: readonly string[], uses: ReadonlyMap<string, number>): Promise<Map<string, UsableDek | KeystrataError>> {
    const found = new Map<string, UsableDek | KeystrataError>();
    const missing: string[] = [];
    for (const id of ids) {
      const hit = this.deks.get(`dek:${id}`, uses.get(id) ?? 1);
      if (hit === undefined) missing.push(id);
      else found.set(id, hit);
    }
    if (missing.length === 0) return found;
    const chains = await this.keyStore.loadDekChains(missing);
    await Promise.all(chains.map(async (chain) => found.set(chain.dek.id, await this.#settle(() => this.#unwrapDek(chain)))));
    for (const id of missing) {
      // A well-formed envelope naming no known DEK: its header was altered, or it belongs to another key store.
      if (!found.has(id)) found.set(id, new KeystrataError('CIPHERTEXT_TAMPERED', `The value names DEK ${id}, which is not in this key store: it was modified, or written with another key store.`, { details: { dek: id } }));
    }
    return found;
  }

  async #settle(fn: () => Promise<UsableDek>): Promise<UsableDek | KeystrataError> {
    try {
      return await fn();
    } catch (error) {
      if (KeystrataError.isInstance(error)) return error;
      throw error;
    }
  }

  async #unwrapDek(chain: DekChain): Promise<UsableDek> {
    assertChainUsable(chain);
    const { dek } = chain;
    const kek = await this.#kek(chain);
    let key: SecretKey;
    try {
      key = kwpUnwrap(kek.exposeSecretBytes(), Buffer.from(dek.wrapped, 'base64'), 32);
    } catch (error) {
      await this.audit.recordQuietly('unwrap-failed', `dek:${dek.id}`, { keyring: dek.keyring, segment: dek.segment });
      throw error;
    }
    const meta = { id: dek.id, keyring: dek.keyring, segment: dek.segment, kekVersion: dek.kekVersion };
    this.deks.set(`dek:${dek.id}`, key, meta);
    return { key, meta };
  }

  /** The plaintext KEK of a chain, from the cache or one HSM unwrap shared by concurrent callers. */
  async #kek(chain: { kek: KekRecord | undefined; cmk: DekChain['cmk'] }): Promise<SecretKey> {
    const { kek, cmk } = chain;
    if (kek === undefined || cmk === undefined) throw new KeystrataError('KEY_NOT_FOUND', 'A KEK or CMK version is missing from the key store.');
    const id = `kek:${kek.keyring}:${kek.version}`;
    const hit = this.keks.get(id);
    if (hit !== undefined) return hit.key;
    let pending = this.#pending.get(id);
    if (pending === undefined) {
      pending = (async () => {
        try {
          const key = await this.rootKey.unwrapKek({ label: cmk.hsmLabel, id: cmk.hsmId }, Buffer.from(kek.wrapped, 'base64'));
          this.keks.set(id, key, { keyring: kek.keyring, version: kek.version });
          return key;
        } catch (error) {
          if (KeystrataError.isInstance(error, 'CIPHERTEXT_TAMPERED')) {
            await this.audit.recordQuietly('unwrap-failed', `kek:${kek.keyring}:v${kek.version}`, { cmkVersion: kek.cmkVersion });
          }
          throw error;
        }
      })().finally(() => this.#pending.delete(id));
      this.#pending.set(id, pending);
    }
    return pending;
  }

  /** The current DEK of each segment, creating version 1 where a segment has none. */
  async encryptionKeys(keyring: string, segments: readonly string[]): Promise<Map<string, UsableDek>> {
    const out = new Map<string, UsableDek>();
    const missing: string[] = [];
    const now = Date.now();
    for (const segment of segments) {
      const current = this.#current.get(segmentKey(keyring, segment));
      const hit = current !== undefined && current.expiresAt > now ? this.deks.get(`dek:${current.id}`) : undefined;
      if (hit === undefined) missing.push(segment);
      else out.set(segment, hit);
    }
    if (missing.length === 0) return out;
    const latest = new Map((await this.keyStore.loadLatestDekChains(keyring, missing)).map((c) => [c.dek.segment, c]));
    const fresh = missing.filter((segment) => !latest.has(segment));
    if (fresh.length > 0) for (const chain of await this.createDeks(keyring, fresh, 1)) latest.set(chain.dek.segment, chain);
    for (const segment of missing) {
      const chain = latest.get(segment)!;
      if (chain.dek.state !== 'primary') assertUsable(`The current DEK of segment "${segment}"`, chain.dek.state === 'enabled' ? 'disabled' : chain.dek.state);
      const usable = this.deks.get(`dek:${chain.dek.id}`) ?? (await this.#unwrapDek(chain));
      this.#current.set(segmentKey(keyring, segment), { id: chain.dek.id, expiresAt: now + this.#maxAgeMs });
      out.set(segment, usable);
    }
    return out;
  }

  /**
   * Creates DEK `version` for each segment under the keyring's primary KEK, with one audit record
   * for the batch. Where another process won the race for a segment, its DEK is returned instead.
   */
  async createDeks(keyring: string, segments: readonly string[], version: number): Promise<DekChain[]> {
    const kekChain = await this.primaryKek(keyring);
    const kek = await this.#kek(kekChain);
    const at = new Date().toISOString();
    const created: DekChain[] = [];
    const lost: string[] = [];
    for (const segment of segments) {
      const bytes = randomBytes(32);
      const dek: DekRecord = {
        id: randomBytes(16).toString('hex'), keyring, segment, version, kekVersion: kekChain.kek.version,
        wrapped: kwpWrap(kek.exposeSecretBytes(), bytes).toString('base64'), state: 'primary', createdAt: at, updatedAt: at,
      };
      bytes.fill(0);
      if (await this.keyStore.insertDek(dek)) created.push({ dek, kek: kekChain.kek, cmk: kekChain.cmk });
      else lost.push(segment);
    }
    if (created.length > 0) {
      const ids = created.map((c) => c.dek.id);
      await this.audit.record('generate', created.length === 1 ? `dek:${ids[0]}` : `deks:${keyring}`, {
        keyring, version, kekVersion: kekChain.kek.version, count: created.length, ids: ids.join(','),
      });
    }
    if (lost.length > 0) created.push(...(await this.keyStore.loadLatestDekChains(keyring, lost)));
    return created;
  }

  /** The keyring's primary KEK with its CMK version. */
  async primaryKek(keyring: string): Promise<Required<Pick<DekChain, 'kek' | 'cmk'>> & { kek: KekRecord }> {
    const keks = await this.keyStore.listKeks(keyring);
    const kek = keks.filter((k) => k.state === 'primary').at(-1);
    if (kek === undefined) throw new KeystrataError('KEY_NOT_FOUND', `Keyring "${keyring}" has no primary KEK; run \`keystrata init\` for it.`, { details: { keyring } });
    const cmk = (await this.keyStore.listCmks(keyring)).find((c) => c.version === kek.cmkVersion);
    assertUsable(`CMK ${keyring} v${kek.cmkVersion}`, cmk?.state);
    return { kek, cmk: cmk! };
  }

  /** Drops cached keys and current-DEK pointers matching a keyring (and segment). */
  evict(match: { keyring?: string; segment?: string; dekId?: string; kekVersion?: number }): void {
    this.deks.deleteWhere((id, meta) =>
      (match.dekId === undefined || meta.id === match.dekId) &&
      (match.kekVersion === undefined || meta.kekVersion === match.kekVersion) &&
      (match.keyring === undefined || meta.keyring === match.keyring) &&
      (match.segment === undefined || meta.segment === match.segment));
    if (match.segment === undefined || match.segment.startsWith('__keystrata')) {
      this.fieldKeys.deleteWhere((_, meta) =>
        (match.dekId === undefined || meta.dekId === match.dekId) && (match.keyring === undefined || meta.keyring === match.keyring));
    }
    if (match.dekId === undefined && match.segment === undefined) {
      this.keks.deleteWhere((_, meta) => (match.keyring === undefined || meta.keyring === match.keyring) && (match.kekVersion === undefined || meta.version === match.kekVersion));
    }
    for (const key of [...this.#current.keys()]) {
      const [keyring, segment] = key.split('\u0000');
      if ((match.keyring === undefined || keyring === match.keyring) && (match.segment === undefined || segment === match.segment)) this.#current.delete(key);
    }
  }

  /** Unwraps a KEK for maintenance jobs (rewrap), through the cache. */
  async kekFor(chain: { kek: KekRecord | undefined; cmk: DekChain['cmk'] }): Promise<SecretKey> {
    return this.#kek(chain);
  }

  clear(): void {
    this.deks.clear();
    this.keks.clear();
    this.fieldKeys.clear();
    this.#current.clear();
  }
}
