import { describe, expect, it } from 'vitest';
import { envelopeDekId } from '../envelope/envelope-format.js';
import { KeystrataError } from '../errors/keystrata-error.js';
import { KeyHierarchy } from '../hierarchy/key-hierarchy.js';
import type { KeyChangePage } from '../key-store/key-changes.js';
import { MemoryKeyStore } from '../key-store/memory-key-store.js';
import { SoftwareRootKey } from '../root-key/software-root-key.js';

/** A memory store that counts change-log queries and can be made to fail them. */
class CountingStore extends MemoryKeyStore {
  changeQueries = 0;
  failChanges = false;
  override async listKeyChanges(afterSeq?: number): Promise<KeyChangePage> {
    this.changeQueries++;
    if (this.failChanges) throw new KeystrataError('KEYSTORE_UNAVAILABLE', 'The key store did not answer.');
    return super.listKeyChanges(afterSeq);
  }
}

const context = { model: 'Patient', field: 'ssn', recordId: 'r1', segment: 'tenant-a' };

/** Two hierarchies over one store: `admin` revokes, `reader` has a warm cache and a clock the test moves. */
async function twoInstances(checkMs = 1000) {
  const rootKey = new SoftwareRootKey();
  const keyStore = new CountingStore();
  const clock = { t: 1_000_000 };
  const admin = await KeyHierarchy.create({ rootKey, keyStore });
  await admin.provision();
  const reader = await KeyHierarchy.create({ rootKey, keyStore, cache: { revocationCheckMs: checkMs, maxAgeMs: 3_600_000, now: () => clock.t } });
  const stored = await admin.encryptValue('canary-value', context);
  expect(await reader.decryptValue(stored, context)).toBe('canary-value'); // warm
  return { admin, reader, keyStore, clock, stored };
}

const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'decrypted',
    (error: unknown) => (KeystrataError.isInstance(error) ? error.code : String(error)),
  );

describe('revocation re-check before serving cached keys (issue 15 §1, unit)', () => {
  it('issue 15 §1: a DEK disabled by another instance is refused once revocationCheckMs passed, with one change-log query per interval and none per value', async () => {
    const { admin, reader, keyStore, clock, stored } = await twoInstances();
    const before = keyStore.queryCount;
    for (let n = 0; n < 500; n++) await reader.decryptValue(stored, context);
    expect(keyStore.queryCount - before).toBe(0); // steady state: no key-store query per value

    await admin.disable({ kind: 'dek', id: envelopeDekId(stored) });
    clock.t += 1000;
    const changeQueries = keyStore.changeQueries;
    const results = await Promise.all(Array.from({ length: 20 }, () => codeOf(reader.decryptValue(stored, context))));
    expect(results).toEqual(Array.from({ length: 20 }, () => 'KEY_DISABLED'));
    expect(keyStore.changeQueries - changeQueries).toBe(1); // one query shared by the concurrent callers
  });

  it('issue 15 §1: a KEK disabled and a DEK destroyed by another instance are refused after the interval', async () => {
    const { admin, reader, clock, stored } = await twoInstances();
    const other = await admin.encryptValue('canary-b', { ...context, segment: 'tenant-b' });
    expect(await reader.decryptValue(other, { ...context, segment: 'tenant-b' })).toBe('canary-b');
    await admin.disable({ kind: 'kek', version: 1 });
    clock.t += 1000;
    expect(await codeOf(reader.decryptValue(stored, context))).toBe('KEY_DISABLED');
    await admin.enable({ kind: 'kek', version: 1 });
    clock.t += 1000;
    expect(await reader.decryptValue(other, { ...context, segment: 'tenant-b' })).toBe('canary-b');
    await admin.destroy({ kind: 'dek', id: envelopeDekId(other) });
    clock.t += 1000;
    expect(await codeOf(reader.decryptValue(other, { ...context, segment: 'tenant-b' }))).toBe('KEY_DESTROYED');
  });

  it('issue 15 §1: a re-check the key store cannot answer fails the decrypt (fail closed), and it works again once the store answers', async () => {
    const { reader, keyStore, clock, stored } = await twoInstances();
    keyStore.failChanges = true;
    clock.t += 1000;
    expect(await codeOf(reader.decryptValue(stored, context))).toBe('KEYSTORE_UNAVAILABLE');
    keyStore.failChanges = false;
    expect(await reader.decryptValue(stored, context)).toBe('canary-value');
  });

  it('issue 15 §1: revocationCheckMs 0 re-checks before every operation; a negative one is CONFIG_INVALID', async () => {
    const keyStore = new CountingStore();
    const eager = await KeyHierarchy.create({ rootKey: new SoftwareRootKey(), keyStore, cache: { revocationCheckMs: 0 } });
    await eager.provision();
    const stored = await eager.encryptValue('x', context);
    const before = keyStore.changeQueries;
    for (let n = 0; n < 3; n++) await eager.decryptValue(stored, context);
    expect(keyStore.changeQueries - before).toBe(3);
    await expect(KeyHierarchy.create({ rootKey: new SoftwareRootKey(), keyStore: new MemoryKeyStore(), cache: { revocationCheckMs: -1 } })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('issue 15 §1: blind indexes from a cached field key stop once another instance disabled the CMK and the interval passed', async () => {
    const { admin, reader, clock } = await twoInstances();
    const field = { model: 'Patient', field: 'email' };
    const index = await reader.blindIndex('ada@example.com', field);
    await admin.disable({ kind: 'cmk' }, { confirm: 'default' });
    clock.t += 1000;
    expect(await codeOf(reader.blindIndex('ada@example.com', field))).toBe('KEY_DISABLED');
    await admin.enable({ kind: 'cmk' });
    clock.t += 1000;
    expect(await reader.blindIndex('ada@example.com', field)).toBe(index);
  });
});
