import { KeyHierarchy, type FieldContext } from '@keystrata/core';
import { envelopeDekId } from '@keystrata/core/adapter';
import type mongoose from 'mongoose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MongoKeyStore } from '../src/index.js';
import { codeOf } from './support/checks.js';
import { freshDbName, openConnection } from './support/mongo.js';
import { openRootKey } from './support/root-key.js';

const ctx = (segment: string): FieldContext => ({ model: 'Patient', field: 'ssn', recordId: 'r1', segment });

describe('MongoKeyStore tombstones and durable shredding (SoftHSM2 + FerretDB or MONGODB_URI)', () => {
  const connections: mongoose.Connection[] = [];
  beforeEach(() => void connections.splice(0));
  afterEach(async () => {
    for (const connection of connections) {
      if (connection.readyState === 1) await connection.dropDatabase();
      await connection.close();
    }
  });
  const freshDb = async (): Promise<mongoose.mongo.Db> => {
    const connection = await openConnection(freshDbName('ks_shred'));
    connections.push(connection);
    return connection.db!;
  };

  it('issue 11 §1: tombstones are kept once per key, listed by keyring and marked durable up to a cutoff', async () => {
    const store = new MongoKeyStore(await freshDb());
    await store.migrate();
    await store.putTombstone({ kind: 'dek', id: 'a', keyring: 'k1', segment: 's1', destroyedAt: '2026-01-01T00:00:00.000Z', durableAt: null });
    await store.putTombstone({ kind: 'dek', id: 'a', keyring: 'k1', segment: 's1', destroyedAt: '2026-02-01T00:00:00.000Z', durableAt: null });
    await store.putTombstone({ kind: 'dek', id: 'b', keyring: 'k1', segment: 's2', destroyedAt: '2026-03-01T00:00:00.000Z', durableAt: null });
    await store.putTombstone({ kind: 'kek', id: '1', keyring: 'k2', segment: '', destroyedAt: '2026-01-01T00:00:00.000Z', durableAt: null });
    expect((await store.listTombstones('k1')).map((t) => [t.id, t.destroyedAt])).toEqual([
      ['a', '2026-01-01T00:00:00.000Z'],
      ['b', '2026-03-01T00:00:00.000Z'],
    ]);
    expect(await store.markTombstonesDurable('k1', '2026-02-15T00:00:00.000Z', '2026-04-01T00:00:00.000Z')).toBe(1);
    expect((await store.listTombstones()).map((t) => [t.keyring, t.id, t.durableAt])).toEqual([
      ['k1', 'a', '2026-04-01T00:00:00.000Z'],
      ['k2', '1', null],
      ['k1', 'b', null],
    ]);
  });

  it('issue 11 §1: a durable destroy ends at a destroyed CMK; an old backup restored into an empty MongoDB store stays destroyed', async () => {
    const rootKey = await openRootKey();
    try {
      const h = await KeyHierarchy.create({ rootKey, keyStore: new MongoKeyStore(await freshDb()), cmkLabelPrefix: `shred-${Math.random().toString(36).slice(2)}` });
      await h.provision();
      const gone = await h.encryptValue('canary-gone', ctx('tenant:gone'));
      const kept = await h.encryptValue('canary-kept', ctx('tenant:kept'));
      const oldBackup = JSON.parse(JSON.stringify(await h.exportBackup()));
      const impact = await h.destroy({ kind: 'segment', segment: 'tenant:gone' });
      expect(impact.durableAt).toEqual(expect.any(String));
      const shreds = (await h.status()).keyrings[0]!.shreds;
      expect(shreds.keys.find((k) => k.id === envelopeDekId(gone))).toMatchObject({ kind: 'dek', durableAt: expect.any(String) });
      h.clearCache();
      expect(await h.decryptValue(kept, ctx('tenant:kept'))).toBe('canary-kept');
      const empty = new MongoKeyStore(await freshDb());
      const other = await KeyHierarchy.create({ rootKey, keyStore: empty });
      expect((await other.importBackup(oldBackup)).missingInHsm.length).toBe(1);
      expect(await codeOf(other.decryptValue(gone, ctx('tenant:gone')))).toBe('KEY_DESTROYED');
      expect((await empty.loadDekChains([envelopeDekId(gone)]))[0]?.dek).toMatchObject({ state: 'destroyed', wrapped: '' });
    } finally {
      await rootKey.close();
    }
  });
});
