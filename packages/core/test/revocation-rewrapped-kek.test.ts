// Issue 15 §1, from a security review (issue 15 §1): a logged KEK change evicts cached DEKs by the KEK version they
// were unwrapped under (meta.kekVersion). After `rotateKek` + `rewrapDeks` (unlogged: "a rewrap is
// no revocation"), a DEK cached earlier still carries the old KEK version, so revoking the KEK
// that now wraps it does not evict it in another instance.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteDriver, KeyHierarchy, SqlKeyStore } from '../src/index.js';
import { sqliteStack } from './stacks.js';

const opened: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const thing of opened.splice(0).reverse()) await thing.close();
});
const ctx = (segment: string) => ({ model: 'Patient', field: 'ssn', recordId: 'r1', segment });

describe('KEK revocation after a rewrap (SQLite, two hierarchies)', () => {
  it('issue 15 §1 (review): disabling the KEK that now wraps a DEK stops every instance from decrypting with it within ~1 s', async () => {
    const stack = await sqliteStack();
    opened.push(stack);
    const prefix = `rw-${Math.random().toString(36).slice(2)}`;
    const admin = await KeyHierarchy.create({ rootKey: stack.rootKey, keyStore: stack.keyStore, cmkLabelPrefix: prefix });
    await admin.provision();
    const stored = await admin.encryptValue('secret-a', ctx('a'));

    const storeA = new SqlKeyStore(await createSqliteDriver({ database: stack.file }));
    opened.push(storeA);
    const a = await KeyHierarchy.create({ rootKey: stack.rootKey, keyStore: storeA, cmkLabelPrefix: prefix });
    expect(await a.decryptValue(stored, ctx('a'))).toBe('secret-a'); // A caches the DEK (unwrapped under KEK v1)

    const rotated = await admin.rotateKek();
    await admin.rewrapDeks();
    const deks = await stack.keyStore.listDeks({ keyring: 'default', segment: 'a', limit: 10 });
    const newKek = Math.max(...deks.map((d) => d.kekVersion));
    expect(newKek).toBeGreaterThan(1); // the DEK is now wrapped under the new KEK only
    await admin.disable({ kind: 'kek', version: newKek });
    admin.clearCache();
    await expect(admin.decryptValue(stored, ctx('a'))).rejects.toBeTruthy(); // the revoking side refuses (cold)

    await sleep(2500);
    let outcome: string;
    try {
      outcome = `DECRYPTED ${await a.decryptValue(stored, ctx('a'))}`;
    } catch (error) {
      outcome = `REFUSED ${(error as { code?: string }).code}`;
    }
    expect({ rotated: rotated.version ?? rotated, outcome }).toMatchObject({ outcome: expect.stringMatching(/^REFUSED/) });
  });

  it('issue 15 §1 (review): the revoking process itself refuses a DEK it cached before the rewrap after it disables the KEK wrapping it', async () => {
    const stack = await sqliteStack();
    opened.push(stack);
    const h = await KeyHierarchy.create({ rootKey: stack.rootKey, keyStore: stack.keyStore, cmkLabelPrefix: `rw1-${Math.random().toString(36).slice(2)}` });
    await h.provision();
    const stored = await h.encryptValue('secret-b', ctx('b'));
    expect(await h.decryptValue(stored, ctx('b'))).toBe('secret-b');
    await h.rotateKek();
    await h.rewrapDeks();
    const [dek] = await stack.keyStore.listDeks({ keyring: 'default', segment: 'b', limit: 10 });
    expect(dek!.kekVersion).toBe(2);
    await h.disable({ kind: 'kek', version: 2 });
    let outcome: string;
    try {
      outcome = `DECRYPTED ${await h.decryptValue(stored, ctx('b'))}`;
    } catch (error) {
      outcome = `REFUSED ${(error as { code?: string }).code}`;
    }
    expect(outcome).toMatch(/^REFUSED/);
  });
});
