import { describe, expect, it } from 'vitest';
import { describeHierarchy } from '../../test/hierarchy-behaviour.js';
import { MemoryKeyStore } from '../key-store/memory-key-store.js';
import { SoftwareRootKey } from '../root-key/software-root-key.js';
import { KeyHierarchy, type OperationEvent } from './key-hierarchy.js';

function memoryStack() {
  const rootKey = new SoftwareRootKey();
  const keyStore = new MemoryKeyStore();
  return Promise.resolve({
    rootKey,
    keyStore,
    freshKeyStore: async () => new MemoryKeyStore(),
    async editAuditRow(seq: number) {
      const rows = (await keyStore.listAudit()) as Array<{ seq: number; details: string }>;
      const row = rows.find((r) => r.seq === seq)!;
      (row as { details: string }).details = '{"edited":true}';
    },
    close: () => rootKey.close(),
  });
}

describeHierarchy('a software root and an in-memory store (unit)', memoryStack);
describeHierarchy('a software root and an in-memory store (unit)', memoryStack, 'node:crypto');

describe('KeyHierarchy options and monitoring', () => {
  it('validates its options once', async () => {
    await expect(KeyHierarchy.create({} as never)).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    const stack = await memoryStack();
    await expect(KeyHierarchy.create({ ...stack, keyring: 'bad name!' })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('calls the monitoring hook once per batch, without values', async () => {
    const events: OperationEvent[] = [];
    const stack = await memoryStack();
    const h = await KeyHierarchy.create({ ...stack, monitor: (e) => events.push(e) });
    await h.provision();
    const context = { model: 'M', field: 'f', segment: 's' };
    const [stored] = await h.encryptValues([
      { value: 'canary-monitor', context },
      { value: 'x', context },
    ]);
    await h.decryptValue(stored, context).catch(() => undefined);
    await h.decryptValue('nope', context).catch(() => undefined);
    expect(events.map((e) => [e.operation, e.count, e.ok])).toEqual([
      ['encrypt', 2, true],
      ['decrypt', 1, true],
      ['decrypt', 1, false],
    ]);
    expect(events[2]!.code).toBe('CIPHERTEXT_MALFORMED');
    expect(JSON.stringify(events)).not.toContain('canary');
  });

  it('refuses to encrypt without a segment or into a reserved one', async () => {
    const h = await KeyHierarchy.create(await memoryStack());
    await h.provision();
    await expect(h.encryptValue('x', { model: 'M', field: 'f' })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(h.encryptValue('x', { model: 'M', field: 'f', segment: '__keystrata/x' })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });
});
