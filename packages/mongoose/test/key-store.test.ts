import { KeyHierarchy, type DekRecord } from '@keystrata/core';
import type mongoose from 'mongoose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MongoKeyStore } from '../src/index.js';
import { codeOf } from './support/checks.js';
import { freshDbName, openConnection } from './support/mongo.js';
import { openRootKey } from './support/root-key.js';

const dek = (id: string, segment: string, version = 1): DekRecord => ({
  id,
  keyring: 'default',
  segment,
  version,
  kekVersion: 1,
  wrapped: 'AAAA',
  state: 'primary',
  createdAt: 'now',
  updatedAt: 'now',
});

/** Whether the server runs `$lookup` (MongoDB does, FerretDB 1.x does not). */
async function supportsLookup(db: mongoose.mongo.Db): Promise<boolean> {
  return db
    .collection('probe')
    .aggregate([{ $lookup: { from: 'x', localField: 'a', foreignField: 'b', as: 'c' } }])
    .toArray()
    .then(
      () => true,
      () => false,
    );
}

describe('MongoKeyStore', () => {
  let connection: mongoose.Connection;
  let db: mongoose.mongo.Db;
  beforeEach(async () => {
    connection = await openConnection(freshDbName('ks_store'));
    db = connection.db!;
  });
  afterEach(async () => {
    if (connection.readyState === 1) await connection.dropDatabase();
    await connection.close();
  });

  it('keeps the SQL layout: collections per table, unique (keyring, segment, version) and id', async () => {
    const store = new MongoKeyStore(db);
    await store.migrate();
    expect(await store.insertDek(dek('a'.repeat(32), 's1'))).toBe(true);
    expect(await store.insertDek(dek('b'.repeat(32), 's1'))).toBe(false);
    expect(await store.insertDek(dek('a'.repeat(32), 's2'))).toBe(false);
    expect(await store.insertDek(dek('c'.repeat(32), 's1', 2))).toBe(true);
    expect((await store.loadLatestDekChains('default', ['s1', 's2'])).map((c) => c.dek.version)).toEqual([2]);
    expect(await store.listDeks({ limit: 10, afterId: 'a'.repeat(32) })).toHaveLength(1);
    expect(await store.countDeks()).toEqual([{ keyring: 'default', state: 'primary', count: 2 }]);
    const names = (await db.listCollections().toArray()).map((c) => c.name).sort();
    expect(names).toEqual(expect.arrayContaining(['keystrata_cmk', 'keystrata_dek', 'keystrata_kek']));
  });

  it('issue 11 §2: stores the KEK binding, returns it in DEK chains, and replaces a DEK wrapping only by compare-and-set', async () => {
    const store = new MongoKeyStore(db);
    await store.migrate();
    const kek = { keyring: 'default', version: 1, cmkVersion: 1, wrapped: 'AAAA', state: 'primary' as const, createdAt: 'now', updatedAt: 'now' };
    await store.insertCmk({ keyring: 'default', version: 1, hsmLabel: 'l', hsmId: '01', state: 'primary', createdAt: 'now', updatedAt: 'now' });
    await store.insertKek({ ...kek, binding: 'b1.first' });
    expect((await store.listKeks('default'))[0]!.binding).toBe('b1.first');
    await store.updateKek('default', 1, { binding: 'b1.second', at: 'later' });
    expect((await store.listKeks('default'))[0]!.binding).toBe('b1.second');
    expect(await store.insertDek(dek('a'.repeat(32), 's1'))).toBe(true);
    expect((await store.loadDekChains(['a'.repeat(32)]))[0]!.kek!.binding).toBe('b1.second');
    expect(await store.replaceDekWrapping('a'.repeat(32), 'stale', { wrapped: 'k2.x', kekVersion: 1, at: 'later' })).toBe(false);
    expect(await store.replaceDekWrapping('a'.repeat(32), 'AAAA', { wrapped: 'k2.x', kekVersion: 1, at: 'later' })).toBe(true);
    await store.updateDek('a'.repeat(32), { state: 'destroyed', wrapped: '', at: 'later' });
    expect(await store.replaceDekWrapping('a'.repeat(32), '', { wrapped: 'k2.y', kekVersion: 1, at: 'later' })).toBe(false);
  });

  it('picks $lookup where the server has it and the metadata cache where it does not', async () => {
    const store = new MongoKeyStore(db);
    await store.migrate();
    expect(store.joinMode).toBe((await supportsLookup(db)) ? 'lookup' : 'cache');
    const cached = new MongoKeyStore(db, { join: 'cache' });
    await cached.migrate();
    expect(cached.joinMode).toBe('cache');
    if (store.joinMode === 'cache') expect(await codeOf(new MongoKeyStore(db, { join: 'lookup' }).loadDekChains(['x']))).toBe('KEYSTORE_UNAVAILABLE');
    else expect(await new MongoKeyStore(db, { join: 'lookup' }).loadDekChains(['x'])).toEqual([]);
  });

  it('chains audit records across processes without transactions; verification passes', async () => {
    const rootKey = await openRootKey();
    try {
      const prefix = `ks-store-${Math.random().toString(36).slice(2)}`;
      const one = await KeyHierarchy.create({ rootKey, keyStore: new MongoKeyStore(db), cmkLabelPrefix: prefix });
      const two = await KeyHierarchy.create({ rootKey, keyStore: new MongoKeyStore(db), cmkLabelPrefix: prefix });
      await one.provision();
      await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? one : two).encryptValue('v', { model: 'M', field: 'f', segment: `s${i}` })));
      const audit = await one.verifyAudit();
      expect(audit.records).toBeGreaterThanOrEqual(14);
      expect((await two.listAudit()).map((r) => r.seq)).toEqual(Array.from({ length: audit.records }, (_, i) => i + 1));
    } finally {
      await rootKey.close();
    }
  });

  it('sees another process revoking a KEK once its metadata cache expires', async () => {
    const rootKey = await openRootKey();
    try {
      const prefix = `ks-store-${Math.random().toString(36).slice(2)}`;
      const reader = await KeyHierarchy.create({ rootKey, keyStore: new MongoKeyStore(db, { metadataMaxAgeMs: 0 }), cmkLabelPrefix: prefix });
      const admin = await KeyHierarchy.create({ rootKey, keyStore: new MongoKeyStore(db), cmkLabelPrefix: prefix });
      await admin.provision();
      const context = { model: 'M', field: 'f', recordId: 'r', segment: 's' };
      const stored = await reader.encryptValue('v', context);
      await admin.disable({ kind: 'kek', version: 1 });
      reader.clearCache();
      expect(await codeOf(reader.decryptValue(stored, context))).toBe('KEY_DISABLED');
    } finally {
      await rootKey.close();
    }
  });

  it('rejects a missing database and wraps driver failures as KEYSTORE_UNAVAILABLE', async () => {
    expect(() => new MongoKeyStore(undefined as never)).toThrow(/CONFIG_INVALID/);
    const store = new MongoKeyStore(db);
    await store.migrate();
    await connection.close();
    expect(await codeOf(store.listKeks())).toBe('KEYSTORE_UNAVAILABLE');
  });
});
