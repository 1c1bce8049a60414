import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { KeyCache, KeyLeases } from '../cache/key-cache.js';
import { nativeKeyOf } from '../envelope/batch-seal.js';
import { KeystrataError } from '../errors/keystrata-error.js';
import { SecretKey } from '../secret/secret-key.js';
import { chooseAead, loadNativeAead, type NativeAeadModule } from './native-aead.js';

const native = (await loadNativeAead()).module as NativeAeadModule;
const released = (handle: unknown) => (handle as { released: boolean }).released;
const saved = process.env.KEYSTRATA_AEAD;

afterEach(() => {
  if (saved === undefined) delete process.env.KEYSTRATA_AEAD;
  else process.env.KEYSTRATA_AEAD = saved;
});

describe('issue 16 §fallback: choosing the AES-GCM path', () => {
  it('issue 16 §fallback: auto uses the addon here; node:crypto (option or KEYSTRATA_AEAD=node) forces the fallback', async () => {
    delete process.env.KEYSTRATA_AEAD;
    expect(await chooseAead(undefined)).toBe(native);
    expect(await chooseAead('auto')).toBe(native);
    expect(await chooseAead('native')).toBe(native);
    expect(await chooseAead('node:crypto')).toBeUndefined();
    process.env.KEYSTRATA_AEAD = 'node';
    expect(await chooseAead(undefined)).toBeUndefined();
    expect(await chooseAead('native')).toBe(native); // the option wins over the environment
  });

  it('issue 16 §fallback: an unknown option or KEYSTRATA_AEAD value is CONFIG_INVALID', async () => {
    await expect(chooseAead('fast' as never)).rejects.toSatisfy((e: unknown) => KeystrataError.isInstance(e, 'CONFIG_INVALID'));
    process.env.KEYSTRATA_AEAD = 'openssl';
    await expect(chooseAead(undefined)).rejects.toSatisfy((e: unknown) => KeystrataError.isInstance(e, 'CONFIG_INVALID'));
  });
});

describe('issue 16 §keys: the key cache releases native handles with the key', () => {
  it('issue 16 §keys: an evicted key that is leased keeps its native handle usable; the last lease release frees it', () => {
    const cache = new KeyCache<undefined>();
    const secret = SecretKey.takeOwnership(randomBytes(32));
    cache.set('dek', secret, undefined);
    const leases = new KeyLeases();
    const entry = cache.lease('dek', leases)!;
    const handle = nativeKeyOf(native, entry.key);
    cache.delete('dek'); // revocation or eviction while an operation holds the key
    expect(released(handle)).toBe(false);
    const status = new Uint8Array(1);
    expect(native.sealBatch([handle], new Uint32Array([0, 0, 0, 0, 0, 0, 0]), Buffer.alloc(12), Buffer.alloc(16), status)).toBe(0);
    leases.release();
    expect(released(handle)).toBe(true);
    expect(secret.destroyed).toBe(true);
  });

  it('issue 16 §keys: clear() (revocation, clearCache, close) releases every unleased native handle at once', () => {
    const cache = new KeyCache<undefined>();
    const handles = [0, 1, 2].map((i) => {
      const secret = SecretKey.takeOwnership(randomBytes(32));
      cache.set(`dek${i}`, secret, undefined);
      return nativeKeyOf(native, secret);
    });
    cache.clear();
    expect(handles.map(released)).toEqual([true, true, true]);
  });
});
