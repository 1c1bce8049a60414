import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { afterEach, describe, expect, it } from 'vitest';
import { createDatabase } from '@keystrata/testing';
import { createPostgresDriver, createSqliteDriver, KeyHierarchy, KeystrataError, Pkcs11RootKey, SqlKeyStore, type FieldContext, type KeyStore } from '../src/index.js';

// Issue 11 §3: keys in use are never pulled from under a batch (SoftHSM2 + SQLite / PostgreSQL, no mocks).

const ctx = (segment: string, recordId: string, keyring?: string): FieldContext => ({ model: 'Patient', field: 'ssn', recordId, segment, ...(keyring ? { keyring } : {}) });
const codeOf = (error: unknown): string => (KeystrataError.isInstance(error) ? error.code : `untyped: ${String(error)}`);

const opened: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const thing of opened.splice(0).reverse()) await thing.close();
});

async function rootKey(): Promise<Pkcs11RootKey> {
  const token = inject('softhsm');
  const key = await Pkcs11RootKey.open({ module: token.module, tokenLabel: token.tokenLabel, pin: () => token.pin, moduleEnvironment: token.moduleEnvironment, sessions: 4 });
  opened.push(key);
  return key;
}

async function sqliteStore(): Promise<KeyStore> {
  const store = new SqlKeyStore(await createSqliteDriver({ database: join(mkdtempSync(join(tmpdir(), 'keys-in-use-')), 'keys.db') }));
  opened.push(store);
  return store;
}

async function postgresStore(): Promise<KeyStore> {
  const store = new SqlKeyStore(await createPostgresDriver({ database: await createDatabase(inject('postgresUrl'), 'keys_in_use') }));
  opened.push(store);
  return store;
}

const prefix = () => `keys-in-use-${Math.random().toString(36).slice(2)}`;

/** Settles every promise and counts the error codes (no value is ever wrong: checked by the callers). */
async function codes(promises: ReadonlyArray<Promise<unknown>>): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const result of await Promise.allSettled(promises)) if (result.status === 'rejected') out[codeOf(result.reason)] = (out[codeOf(result.reason)] ?? 0) + 1;
  return out;
}

describe('issue 11 §3 keys in use (SoftHSM2 + SQLite)', () => {
  it('issue 11 §3: a batch over 10,000 segments at the default cache size has no false KEY_DESTROYED', async () => {
    const h = await KeyHierarchy.create({ rootKey: await rootKey(), keyStore: await sqliteStore(), cmkLabelPrefix: prefix() });
    await h.provision();
    const items = Array.from({ length: 10_000 }, (_, i) => ({ value: `canary-${i}`, context: ctx(`tenant-${i}`, `r${i}`) }));
    const stored = await h.encryptValues(items); // creates 10,000 DEKs, 10 times the cache
    expect(stored).toHaveLength(10_000);
    h.clearCache();
    const again = await h.encryptValues(items); // cold: 10,000 existing DEKs through a 1,000-entry cache
    h.clearCache();
    const reads = [...stored, ...again].map((ciphertext, i) => ({ ciphertext, context: items[i % 10_000]!.context }));
    const values = await h.decryptValues(reads);
    expect(values.every((v, i) => v === `canary-${i % 10_000}`)).toBe(true);
    expect(h.stats().deks.size).toBeLessThanOrEqual(1000);
  }, 120_000);

  it('issue 11 §3: two concurrent cold reads of one value both succeed, sharing one unwrap', async () => {
    const h = await KeyHierarchy.create({ rootKey: await rootKey(), keyStore: await sqliteStore(), cmkLabelPrefix: prefix() });
    await h.provision();
    const stored = await h.encryptValue('canary-one', ctx('t1', 'r1'));
    for (let round = 0; round < 10; round++) {
      h.clearCache();
      const before = h.stats().deks.misses;
      const results = await Promise.all([h.decryptValue(stored, ctx('t1', 'r1')), h.decryptValue(stored, ctx('t1', 'r1'))]);
      expect(results).toEqual(['canary-one', 'canary-one']);
      expect(h.stats().deks.size).toBe(1); // one copy, not a second one replacing (and zero-filling) the first
      expect(h.stats().deks.misses - before).toBe(2);
    }
  });

  it('issue 11 §3: 240 concurrent cold operations over more DEKs and KEK versions than the cache holds, pool of 4, two hierarchies on one root key: zero errors', async () => {
    const root = await rootKey();
    const store = await sqliteStore();
    const labels = prefix();
    const small = { maxEntries: 8 };
    const a = await KeyHierarchy.create({ rootKey: root, keyStore: store, cmkLabelPrefix: labels, cache: small });
    const b = await KeyHierarchy.create({ rootKey: root, keyStore: store, cmkLabelPrefix: labels, cache: small });
    await a.provision();
    // 100 segments over 25 KEK versions: each KEK version wraps 4 segments' DEKs.
    const stored: Array<{ ciphertext: string; context: FieldContext; value: string }> = [];
    for (let kek = 0; kek < 25; kek++) {
      if (kek > 0) await a.rotateKek();
      for (let s = 0; s < 4; s++) {
        const segment = `seg-${kek * 4 + s}`;
        for (let r = 0; r < 2; r++) {
          const context = ctx(segment, `${segment}-r${r}`);
          stored.push({ ciphertext: await a.encryptValue(`canary-${segment}-${r}`, context), context, value: `canary-${segment}-${r}` });
        }
      }
    }
    for (let round = 0; round < 3; round++) {
      a.clearCache();
      b.clearCache();
      const operations = Array.from({ length: 240 }, (_, i) => {
        const h = i % 2 === 0 ? a : b;
        const item = stored[(i * 7 + round) % stored.length]!;
        if (i % 5 === 0)
          return h
            .encryptValue(item.value, item.context)
            .then((c) => h.decryptValue(c, item.context))
            .then((v) => expect(v).toBe(item.value));
        if (i % 5 === 1)
          return h
            .decryptValues(stored.slice(i % 50, (i % 50) + 30).map(({ ciphertext, context }) => ({ ciphertext, context })))
            .then((v) => expect(v).toEqual(stored.slice(i % 50, (i % 50) + 30).map((s) => s.value)));
        if (i % 5 === 2) return h.blindIndex(item.value, { model: 'Patient', field: 'email' });
        return h.decryptValue(item.ciphertext, item.context).then((v) => expect(v).toBe(item.value));
      });
      expect(await codes(operations)).toEqual({});
    }
  }, 60_000);
});

describe('issue 11 §3 keys in use (SoftHSM2 + PostgreSQL)', () => {
  it('issue 11 §3: 200 concurrent cold decrypt batches over 100 segments and 25 KEK versions with a small cache, pool of 4: zero errors', async () => {
    const h = await KeyHierarchy.create({ rootKey: await rootKey(), keyStore: await postgresStore(), cmkLabelPrefix: prefix(), cache: { maxEntries: 10 } });
    await h.provision();
    const stored: Array<{ ciphertext: string; context: FieldContext; value: string }> = [];
    for (let kek = 0; kek < 25; kek++) {
      if (kek > 0) await h.rotateKek();
      const items = Array.from({ length: 4 }, (_, s) => ({ value: `canary-${kek}-${s}`, context: ctx(`seg-${kek * 4 + s}`, `r-${kek}-${s}`) }));
      const sealed = await h.encryptValues(items);
      sealed.forEach((ciphertext, i) => {
        stored.push({ ciphertext, ...items[i]! });
      });
    }
    for (let round = 0; round < 3; round++) {
      h.clearCache();
      // Each operation reads values under 4 KEK versions at once (as a result page would), some single values twice.
      const reads = Array.from({ length: 200 }, (_, i) => {
        const batch = [0, 1, 2, 3].map((k) => stored[(i * 13 + k * 29 + round) % stored.length]!);
        if (i % 4 === 3) return h.decryptValue(batch[0]!.ciphertext, batch[0]!.context).then((v) => expect(v).toBe(batch[0]!.value));
        return h.decryptValues(batch.map(({ ciphertext, context }) => ({ ciphertext, context }))).then((v) => expect(v).toEqual(batch.map((b) => b.value)));
      });
      expect(await codes(reads)).toEqual({});
    }
  }, 60_000);
});
