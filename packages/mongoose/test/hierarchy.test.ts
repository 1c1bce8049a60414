import type {} from '@keystrata/testing';
import mongoose from 'mongoose';
import { inject } from 'vitest';
import { describeHierarchy, type Stack } from '../../core/test/hierarchy-behaviour.js';
import { Pkcs11RootKey } from '../../core/src/index.js';
import { MongoKeyStore } from '../src/index.js';
import { freshDbName } from './support/mongo.js';

async function mongoStack(): Promise<Stack> {
  const client = await new mongoose.mongo.MongoClient(inject('mongodbUri')).connect();
  const dbName = freshDbName('ks_hier');
  const extra: string[] = [];
  const token = inject('softhsm');
  const rootKey = await Pkcs11RootKey.open({ module: token.module, tokenLabel: token.tokenLabel, pin: () => token.pin, moduleEnvironment: token.moduleEnvironment });
  return {
    rootKey,
    keyStore: new MongoKeyStore(client.db(dbName)),
    async freshKeyStore() {
      const name = freshDbName('ks_fresh');
      extra.push(name);
      return new MongoKeyStore(client.db(name));
    },
    async editAuditRow(seq) {
      await client
        .db(dbName)
        .collection('keystrata_audit')
        .updateOne({ _id: seq as never }, { $set: { details: '{"edited":true}' } });
    },
    async close() {
      await rootKey.close();
      for (const name of [dbName, ...extra]) await client.db(name).dropDatabase();
      await client.close();
    },
  };
}

describeHierarchy('SoftHSM2 and MongoKeyStore (FerretDB or MONGODB_URI)', mongoStack);
