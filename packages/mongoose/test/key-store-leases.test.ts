import { KeyHierarchy, KeystrataError, type Pkcs11RootKey } from '@keystrata/core';
import mongoose from 'mongoose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MongoKeyStore } from '../src/index.js';
import { freshDbName, openConnection } from './support/mongo.js';
import { openRootKey } from './support/root-key.js';

const codeOf = async (p: Promise<unknown>): Promise<string> => p.then(() => 'none', (e) => (KeystrataError.isInstance(e) ? e.code : `untyped: ${String(e)}`));

describe('MongoKeyStore rotation leases and one primary CMK/KEK (FerretDB or MongoDB)', () => {
  let connection: mongoose.Connection;
  let rootKey: Pkcs11RootKey;
  let store: MongoKeyStore;
  let h: KeyHierarchy;
  beforeEach(async () => {
    connection = await openConnection(freshDbName('ks_lease'));
    rootKey = await openRootKey();
    store = new MongoKeyStore(connection.db!);
    h = await KeyHierarchy.create({ rootKey, keyStore: store, cmkLabelPrefix: `mongo-lease-${Math.random().toString(36).slice(2)}` });
    await h.provision();
  });
  afterEach(async () => {
    if (connection.readyState === 1) await connection.dropDatabase();
    await connection.close();
    await rootKey.close();
  });

  it('issue 11 §3a: a lease is taken once; a second holder is refused until it expires or is released', async () => {
    const now = new Date();
    const later = new Date(now.getTime() + 60_000).toISOString();
    expect(await store.acquireLease({ name: 'keyring:x', holder: 'a', expiresAt: later }, now.toISOString())).toBe(true);
    expect(await store.acquireLease({ name: 'keyring:x', holder: 'b', expiresAt: later }, now.toISOString())).toBe(false);
    expect(await store.acquireLease({ name: 'keyring:x', holder: 'a', expiresAt: later }, now.toISOString())).toBe(true);
    expect(await store.getLease('keyring:x')).toEqual({ name: 'keyring:x', holder: 'a', expiresAt: later });
    // Expired: taken over.
    expect(await store.acquireLease({ name: 'keyring:x', holder: 'b', expiresAt: later }, new Date(now.getTime() + 61_000).toISOString())).toBe(true);
    await store.releaseLease('keyring:x', 'a');
    expect((await store.getLease('keyring:x'))?.holder).toBe('b');
    await store.releaseLease('keyring:x', 'b');
    expect(await store.getLease('keyring:x')).toBeUndefined();
  });

  it('issue 11 §3a: rotations keep exactly one primary CMK and KEK; a held keyring lease gives ROTATION_IN_PROGRESS and creates nothing', async () => {
    await h.rotateKek();
    await h.rotateCmk();
    const primaries = async () => ({
      cmks: (await store.listCmks('default')).filter((c) => c.state === 'primary').map((c) => c.version),
      keks: (await store.listKeks('default')).filter((k) => k.state === 'primary').map((k) => k.version),
    });
    expect(await primaries()).toEqual({ cmks: [2], keks: [2] });
    expect((await store.listKeks('default')).map((k) => k.cmkVersion)).toEqual([2, 2]);
    const [cmk] = await store.listCmks('default');
    expect(await codeOf(store.insertCmk({ ...cmk! }))).toBe('ROTATION_IN_PROGRESS');
    await store.acquireLease({ name: 'keyring:default', holder: 'other-host:1:x', expiresAt: new Date(Date.now() + 60_000).toISOString() }, new Date().toISOString());
    expect(await codeOf(h.rotateCmk())).toBe('ROTATION_IN_PROGRESS');
    expect(await codeOf(h.rotateKek())).toBe('ROTATION_IN_PROGRESS');
    expect(await primaries()).toEqual({ cmks: [2], keks: [2] });
    expect(await store.listCmks('default')).toHaveLength(2);
  });
});
