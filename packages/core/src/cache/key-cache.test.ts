import { describe, expect, it } from 'vitest';
import { CachedKey, KeyCache, KeyClaim, KeyLeases } from './key-cache.js';
import { SecretKey } from '../secret/secret-key.js';

const key = () => SecretKey.takeOwnership(Buffer.alloc(32, 0xaa));

describe('KeyCache', () => {
  it('evicts the least recently used beyond maxEntries and zero-fills it', () => {
    const cache = new KeyCache({ maxEntries: 2 });
    const a = key();
    const bytes = a.exposeSecretBytes();
    cache.set('a', a, undefined);
    cache.set('b', key(), undefined);
    cache.get('a');
    cache.set('c', key(), undefined);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBeDefined();
    cache.set('d', key(), undefined);
    cache.set('e', key(), undefined);
    expect(a.destroyed).toBe(true);
    expect(bytes.every((b) => b === 0)).toBe(true);
  });

  it('expires entries after maxAgeMs', () => {
    let t = 0;
    const cache = new KeyCache({ maxAgeMs: 100, now: () => t });
    const k = key();
    cache.set('a', k, undefined);
    t = 99;
    expect(cache.get('a')).toBeDefined();
    t = 100;
    expect(cache.get('a')).toBeUndefined();
    expect(k.destroyed).toBe(true);
  });

  it('evicts after maxUses', () => {
    const cache = new KeyCache({ maxUses: 3 });
    cache.set('a', key(), undefined);
    expect(cache.get('a', 2)).toBeDefined();
    expect(cache.get('a')).toBeDefined();
    expect(cache.get('a')).toBeUndefined();
    expect(cache.stats).toMatchObject({ hits: 2, misses: 1, evictions: 1, size: 0 });
  });

  it('deletes by predicate and clears, zero-filling', () => {
    const cache = new KeyCache<{ segment: string }>();
    const keys = [key(), key(), key()];
    keys.forEach((k, i) => {
      cache.set(`k${i}`, k, { segment: i === 1 ? 'x' : 'y' });
    });
    expect(cache.deleteWhere((_, m) => m.segment === 'x')).toBe(1);
    expect(keys[1]!.destroyed).toBe(true);
    cache.clear();
    expect(keys.every((k) => k.destroyed)).toBe(true);
  });

  it('validates its options once', () => {
    expect(() => new KeyCache({ maxEntries: 0 })).toThrowError(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => new KeyCache({ maxAgeMs: -1 })).toThrowError(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => new KeyCache({ maxUses: 0 })).toThrowError(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });

  it('issue 11 §3: an evicted key stays intact while leased and is zero-filled when the last lease ends', () => {
    const cache = new KeyCache({ maxEntries: 1 });
    const a = key();
    cache.set('a', a, undefined);
    const first = new KeyLeases();
    const second = new KeyLeases();
    expect(cache.lease('a', first)?.key).toBe(a);
    expect(cache.lease('a', second)?.key).toBe(a);
    cache.set('b', key(), undefined); // evicts a (size)
    cache.clear(); // and everything
    expect(cache.get('a')).toBeUndefined();
    expect(a.destroyed).toBe(false);
    first.release();
    expect(a.destroyed).toBe(false);
    second.release();
    expect(a.destroyed).toBe(true);
  });

  it('issue 11 §3: a second copy of the same key replaces the entry without zero-filling the leased first copy', () => {
    const cache = new KeyCache();
    const a = key();
    cache.set('k', a, undefined);
    const leases = new KeyLeases();
    cache.lease('k', leases);
    cache.set('k', key(), undefined);
    expect(a.destroyed).toBe(false);
    leases.release();
    expect(a.destroyed).toBe(true);
  });

  it('issue 11 §3: concurrent misses of one id share one unwrap and both hold the same copy', async () => {
    const cache = new KeyCache<{ n: number }>();
    const one = new KeyLeases();
    const two = new KeyLeases();
    const claim = cache.acquire('k', one);
    expect(claim).toBeInstanceOf(KeyClaim);
    const waiting = cache.acquire('k', two);
    expect(waiting).toBeInstanceOf(Promise);
    const a = key();
    const entry = (claim as KeyClaim<{ n: number }>).fulfil(a, { n: 1 });
    expect(await waiting).toBe(entry);
    cache.clear();
    one.release();
    expect(a.destroyed).toBe(false);
    two.release();
    expect(a.destroyed).toBe(true);
  });

  it('issue 11 §3: a key unwrapped while the cache was cleared serves its waiters but is not cached', async () => {
    const cache = new KeyCache();
    const leases = new KeyLeases();
    const claim = cache.acquire('k', leases) as KeyClaim<undefined>;
    cache.clear(); // e.g. a revocation while the unwrap was in flight
    const a = key();
    const entry = claim.fulfil(a, undefined);
    expect(entry).toBeInstanceOf(CachedKey);
    expect(cache.get('k')).toBeUndefined();
    expect(a.destroyed).toBe(false);
    leases.release();
    expect(a.destroyed).toBe(true);
  });

  it('issue 11 §3: a failed unwrap fails every waiter, and the next caller tries again', async () => {
    const cache = new KeyCache();
    const claim = cache.acquire('k', new KeyLeases()) as KeyClaim<undefined>;
    const waiting = cache.acquire('k', new KeyLeases()) as Promise<unknown>;
    claim.fail(new Error('HSM down'));
    await expect(waiting).rejects.toThrow('HSM down');
    expect(cache.acquire('k', new KeyLeases())).toBeInstanceOf(KeyClaim);
  });

  it('issue 11 §3: a lease taken by an operation that already ended is released at once', async () => {
    const cache = new KeyCache();
    const ended = new KeyLeases();
    const claim = cache.acquire('k', new KeyLeases()) as KeyClaim<undefined>;
    const waiting = cache.acquire('k', ended) as Promise<unknown>;
    ended.release();
    const a = key();
    claim.fulfil(a, undefined);
    await waiting;
    cache.delete('k');
    expect(a.destroyed).toBe(false); // the claimant's lease is still held
  });
});
