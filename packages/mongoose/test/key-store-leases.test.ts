import { KeyHierarchy, KeystrataError, type Pkcs11RootKey } from '@keystrata/core';
import type mongoose from 'mongoose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MongoKeyStore } from '../src/index.js';
import { freshDbName, openConnection } from './support/mongo.js';
import { openRootKey } from './support/root-key.js';

const codeOf = async (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'none',
    (e) => (KeystrataError.isInstance(e) ? e.code : `untyped: ${String(e)}`),
  );

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

  it('issue 11 §3a: the store refuses a second primary CMK even behind the library (unique sparse primary_of; FerretDB has no partial indexes)', async () => {
    const at = new Date().toISOString();
    const [cmk] = await store.listCmks('default');
    await store.insertCmk({ ...cmk!, version: 5, state: 'enabled', createdAt: at, updatedAt: at });
    expect(await codeOf(store.setCmkState('default', 5, 'primary', at))).toBe('ROTATION_IN_PROGRESS');
    const raw = connection.db!.collection('keystrata_cmk');
    await expect(raw.insertOne({ ...(await raw.findOne({ version: 1 }, { projection: { _id: 0 } }))!, version: 6 })).rejects.toMatchObject({ code: expect.anything() });
    expect((await store.listCmks('default')).map((c) => `${c.version}:${c.state}`)).toEqual(['1:primary', '5:enabled']);
    await store.setPrimaryCmk('default', 5, at);
    expect((await store.listCmks('default')).map((c) => `${c.version}:${c.state}`)).toEqual(['1:enabled', '5:primary']);
    await store.setCmkState('default', 5, 'disabled', at);
    await store.setCmkState('default', 1, 'primary', at);
    expect((await store.listCmks('default')).map((c) => `${c.version}:${c.state}`)).toEqual(['1:primary', '5:disabled']);
  });

  it('issue 11 §3a: migrate marks the newest of two primaries left by an older version and demotes the other', async () => {
    const other = await openConnection(freshDbName('ks_legacy'));
    try {
      const at = new Date().toISOString();
      const cmk = (v: number) => ({ keyring: 'k', version: v, hsm_label: `x/k/v${v}`, hsm_id: `0${v}`, state: 'primary', created_at: at, updated_at: at });
      await other.db!.collection('keystrata_cmk').insertMany([cmk(1), cmk(2)]);
      const legacy = new MongoKeyStore(other.db!);
      await legacy.migrate();
      expect((await legacy.listCmks('k')).map((c) => `${c.version}:${c.state}`)).toEqual(['1:enabled', '2:primary']);
      expect(await codeOf(legacy.setCmkState('k', 1, 'primary', at))).toBe('ROTATION_IN_PROGRESS');
    } finally {
      await other.dropDatabase();
      await other.close();
    }
  });
});
