import type {} from '@keystrata/testing';
import mongoose from 'mongoose';
import { describe, expect, inject, it } from 'vitest';
import type { Stack } from '../../core/test/hierarchy-behaviour.js';
import { describePolicies } from '../../core/test/policy-behaviour.js';
import { Pkcs11RootKey } from '../../core/src/index.js';
import { MongoKeyStore } from '../src/index.js';
import { freshDbName } from './support/mongo.js';

async function mongoStack(): Promise<Stack> {
  const client = await new mongoose.mongo.MongoClient(inject('mongodbUri')).connect();
  const dbName = freshDbName('ks_policy');
  const token = inject('softhsm');
  const rootKey = await Pkcs11RootKey.open({ module: token.module, tokenLabel: token.tokenLabel, pin: () => token.pin, moduleEnvironment: token.moduleEnvironment });
  return {
    rootKey,
    keyStore: new MongoKeyStore(client.db(dbName)),
    freshKeyStore: async () => new MongoKeyStore(client.db(freshDbName('ks_fresh'))),
    editAuditRow: async () => undefined,
    async close() {
      await rootKey.close();
      await client.db(dbName).dropDatabase();
      await client.close();
    },
  };
}

describePolicies('SoftHSM2 and MongoKeyStore (FerretDB or MONGODB_URI)', mongoStack);

describe('MongoKeyStore DEK use reservations', () => {
  it('issue 15 §3: concurrent reservations through two connections never share a range (the total is the sum of all blocks)', async () => {
    const uri = inject('mongodbUri');
    const dbName = freshDbName('ks_uses');
    const clients = await Promise.all([1, 2].map(() => new mongoose.mongo.MongoClient(uri).connect()));
    try {
      const stores = clients.map((client) => new MongoKeyStore(client.db(dbName)));
      await stores[0]!.migrate();
      const ends = await Promise.all(
        Array.from({ length: 40 }, async (_, i) => {
          const totals = await stores[i % 2]!.reserveDekUses([{ dekId: 'd1', count: 100 }]);
          return totals.get('d1')!;
        }),
      );
      // Every block was counted once (the total is the sum), and no reservation saw a total below its own
      // true end, so the uses a process may take ([end - 100, end) capped at the limit) never add up past it.
      expect((await stores[1]!.loadDekUses(['d1', 'd2'])).get('d1')).toBe(4000);
      expect(new Map(await stores[1]!.loadDekUses(['d2']))).toEqual(new Map());
      const sorted = [...ends].sort((a, b) => a - b);
      for (const [i, end] of sorted.entries()) expect(end).toBeGreaterThanOrEqual((i + 1) * 100);
      const limit = 2500;
      const usable = ends.reduce((sum, end) => sum + Math.max(0, Math.min(100, limit - (end - 100))), 0);
      expect(usable).toBeLessThanOrEqual(limit);
    } finally {
      await clients[0]!.db(dbName).dropDatabase();
      for (const client of clients) await client.close();
    }
  });
});
