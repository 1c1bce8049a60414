import { KeystrataError } from '@keystrata/core';
import { MemoryKeyStore } from '@keystrata/core/testing';
import { describe, expect, it } from 'vitest';
import { guardKeyStore } from './key-store-guard.js';

class FailingStore extends MemoryKeyStore {
  override async listCmks(): Promise<never> {
    throw Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:5432 password=CANARY'), { code: 'ECONNREFUSED' });
  }
  override async listKeks(): Promise<never> {
    throw new KeystrataError('KEY_NOT_FOUND', 'typed already');
  }
  override async close(): Promise<void> {
    throw new Error('already closed');
  }
}

describe('guardKeyStore', () => {
  it('issue 11 §4: a driver error from any key-store method is KEYSTORE_UNAVAILABLE (no driver message); typed errors pass unchanged', async () => {
    let closed = 0;
    const store = guardKeyStore(new FailingStore(), async () => {
      closed++;
    });
    const error = await store.listCmks().catch((e: unknown) => e);
    expect(KeystrataError.isInstance(error, 'KEYSTORE_UNAVAILABLE')).toBe(true);
    expect((error as KeystrataError).message).toMatch(/running listCmks/);
    expect((error as KeystrataError).cause).toEqual({ name: 'Error', code: 'ECONNREFUSED', message: '(message withheld)' });
    expect(JSON.stringify(error)).not.toContain('CANARY');
    await expect(store.listKeks()).rejects.toMatchObject({ code: 'KEY_NOT_FOUND' });
    expect(store.queryCount).toBe(new MemoryKeyStore().queryCount);
    await expect(store.close()).rejects.toMatchObject({ code: 'KEYSTORE_UNAVAILABLE' });
    expect(closed).toBe(1);
  });
});
