// Another application instance for the issue 15 §1 test: one hierarchy on a MongoKeyStore (its own
// connection), its cache warmed by the first decrypt; lines on stdin, one JSON line answered each:
//   spin <segment> <envelope> <ms>   → decrypts in a loop until refused (or <ms> passed): { code }
//   decrypt <segment> <envelope>     → { value } or { code }
import { createInterface } from 'node:readline';
import { KeyHierarchy, KeystrataError, Pkcs11RootKey } from '@keystrata/core';
import { MongoClient } from 'mongodb';
import { MongoKeyStore } from '../../dist/index.js';

const { uri, dbName, token, cmkLabelPrefix, cache } = JSON.parse(process.env.KEYSTRATA_REVOCATION_READER);
const client = await new MongoClient(uri, { serverSelectionTimeoutMS: 10_000 }).connect();
const rootKey = await Pkcs11RootKey.open({ module: token.module, tokenLabel: token.tokenLabel, pin: () => token.pin, moduleEnvironment: token.moduleEnvironment });
const hierarchy = await KeyHierarchy.create({ rootKey, keyStore: new MongoKeyStore(client.db(dbName)), cmkLabelPrefix, cache });
const answer = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);
const context = (segment) => ({ model: 'Patient', field: 'ssn', recordId: 'r1', segment });
const codeOf = (error) => (KeystrataError.isInstance(error) ? error.code : `untyped: ${String(error)}`);
answer({ ready: true });
for await (const line of createInterface({ input: process.stdin })) {
  const [command, segment, envelope, ms] = line.trim().split(' ');
  if (command === 'quit') break;
  if (command === 'decrypt') {
    try {
      answer({ value: await hierarchy.decryptValue(envelope, context(segment)) });
    } catch (error) {
      answer({ code: codeOf(error) });
    }
  } else if (command === 'spin') {
    const until = Date.now() + Number(ms);
    let code = 'still-decrypting';
    while (Date.now() < until) {
      try {
        await hierarchy.decryptValue(envelope, context(segment));
      } catch (error) {
        code = codeOf(error);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    answer({ code });
  }
}
await hierarchy.close();
await client.close();
