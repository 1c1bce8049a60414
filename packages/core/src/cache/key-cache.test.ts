import { describe, expect, it } from 'vitest';
import { KeyCache } from './key-cache.js';
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
    keys.forEach((k, i) => cache.set(`k${i}`, k, { segment: i === 1 ? 'x' : 'y' }));
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
});
