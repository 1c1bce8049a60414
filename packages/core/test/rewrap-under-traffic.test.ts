import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createSqliteDriver, KeyHierarchy, KeystrataError, Pkcs11RootKey, SqlKeyStore, type FieldContext } from '../src/index.js';
import { envelopeDekId } from '../src/adapter.js';

// Issue 11 §5: `rewrapDeks` under concurrent traffic reports the real reason per DEK and never a live DEK as lost.

const ctx = (segment: string, recordId: string): FieldContext => ({ model: 'Patient', field: 'ssn', recordId, segment });
const opened: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const thing of opened.splice(0).reverse()) await thing.close();
});

async function setup() {
  const token = inject('softhsm');
  const rootKey = await Pkcs11RootKey.open({ module: token.module, tokenLabel: token.tokenLabel, pin: () => token.pin, moduleEnvironment: token.moduleEnvironment });
  opened.push(rootKey);
  const keyStore = new SqlKeyStore(await createSqliteDriver({ database: join(mkdtempSync(join(tmpdir(), 'rewrap-traffic-')), 'keys.db') }));
  opened.push(keyStore);
  const cmkLabelPrefix = `rewrap-${Math.random().toString(36).slice(2)}`;
  // Traffic and the rewrap job share the root key and store; both with a short cache age and a small cache.
  const cache = { maxAgeMs: 15, maxEntries: 16 };
  const app = await KeyHierarchy.create({ rootKey, keyStore, cmkLabelPrefix, cache });
  const ops = await KeyHierarchy.create({ rootKey, keyStore, cmkLabelPrefix, cache });
  await app.provision();
  return { app, ops, keyStore };
}

describe('issue 11 §5 rewrap under traffic (SoftHSM2 + SQLite)', () => {
  it('issue 11 §5: rewrapDeks under concurrent traffic with a short cache age moves every DEK and reports none as failed', async () => {
    const { app, ops, keyStore } = await setup();
    const items = Array.from({ length: 300 }, (_, i) => ({ value: `canary-${i}`, context: ctx(`tenant-${i}`, `r${i}`) }));
    const stored = await app.encryptValues(items);
    await ops.rotateKek();
    let done = false;
    const errors: string[] = [];
    const traffic = (async () => {
      for (let round = 0; !done && round < 2000; round++) {
        const slice = Array.from({ length: 20 }, (_, k) => (round * 37 + k * 13) % stored.length);
        await Promise.all([
          app.decryptValues(slice.map((i) => ({ ciphertext: stored[i]!, context: items[i]!.context }))).then((values) => {
            values.forEach((v, k) => {
              if (v !== `canary-${slice[k]}`) errors.push('wrong value');
            });
          }),
          app.encryptValues(slice.slice(0, 5).map((i) => items[i]!)),
        ]).catch((error: unknown) => errors.push(KeystrataError.isInstance(error) ? error.code : String(error)));
      }
    })();
    const result = await ops.rewrapDeks({ batchSize: 25 }).finally(() => {
      done = true;
    });
    await traffic;
    expect(result).toMatchObject({ kekVersion: 2, rewrapped: 300, failed: 0, failures: [] });
    expect(errors).toEqual([]);
    expect(await keyStore.listDeks({ kekVersionBelow: 2, limit: 10 })).toEqual([]);
    app.clearCache();
    expect(await app.decryptValues(stored.map((ciphertext, i) => ({ ciphertext, context: items[i]!.context })))).toEqual(items.map((i) => i.value));
  }, 60_000);

  it('issue 11 §5: a DEK that cannot be moved is reported with its real reason per DEK, and stays as it was', async () => {
    const { app, ops } = await setup();
    const a = await app.encryptValue('canary-a', ctx('tenant-a', 'r1'));
    await ops.rotateKek();
    await ops.disable({ kind: 'kek', version: 1 });
    const result = await ops.rewrapDeks();
    expect(result).toMatchObject({ rewrapped: 0, failed: 1 });
    expect(result.failures).toEqual([{ dek: envelopeDekId(a), code: 'KEY_DISABLED', message: expect.stringContaining('v1 is disabled') }]);
    await ops.enable({ kind: 'kek', version: 1 });
    expect(await ops.rewrapDeks()).toMatchObject({ rewrapped: 1, failed: 0 });
    app.clearCache();
    expect(await app.decryptValue(a, ctx('tenant-a', 'r1'))).toBe('canary-a');
  });

  it('issue 11 §5: a rewrap never writes a wrapping back over a DEK destroyed meanwhile (compare-and-set in the key store)', async () => {
    const { app, keyStore } = await setup();
    const a = await app.encryptValue('canary-a', ctx('tenant-a', 'r1'));
    const [before] = await keyStore.loadDekChains([envelopeDekId(a)]);
    await app.destroy({ kind: 'dek', id: envelopeDekId(a) });
    expect(await keyStore.replaceDekWrapping(before!.dek.id, before!.dek.wrapped, { wrapped: before!.dek.wrapped, kekVersion: 1, at: 'x' })).toBe(false);
    const [after] = await keyStore.loadDekChains([envelopeDekId(a)]);
    expect(after!.dek).toMatchObject({ state: 'destroyed', wrapped: '' });
  });
});
