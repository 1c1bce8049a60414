// Another application instance for the issue 15 §1 tests and bench: one hierarchy on the given key
// store (SQLite file or PostgreSQL URL), its cache warmed by the first decrypt, driven by lines on
// stdin, one JSON line answered on stdout per command:
//   decrypt <segment> <envelope>        → { value } or { code }
//   spin <segment> <envelope> <ms>      → decrypts in a loop until refused (or <ms> passed): { code, refusedAt, decrypts }
//   stats                               → { keyStoreQueries, pushed }
import { createInterface } from 'node:readline';
import { KeyHierarchy, KeystrataError, Pkcs11RootKey, SqlKeyStore, createPostgresDriver, createSqliteDriver } from '../../dist/index.js';

const { kind, database, token, cmkLabelPrefix, cache } = JSON.parse(process.env.KEYSTRATA_REVOCATION_READER);

async function openRootKey() {
  for (let attempt = 1; ; attempt++) {
    try {
      return await Pkcs11RootKey.open({ module: token.module, tokenLabel: token.tokenLabel, pin: () => token.pin, moduleEnvironment: token.moduleEnvironment });
    } catch (error) {
      if (attempt === 5) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
}

const rootKey = await openRootKey();
const driver = kind === 'postgres' ? await createPostgresDriver({ database }) : await createSqliteDriver({ database });
const keyStore = new SqlKeyStore(driver);
const hierarchy = await KeyHierarchy.create({ rootKey, keyStore, cmkLabelPrefix, cache });
const answer = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);
const context = (segment) => ({ model: 'Patient', field: 'ssn', recordId: 'r1', segment });
const codeOf = (error) => (KeystrataError.isInstance(error) ? error.code : `untyped: ${String(error)}`);
answer({ ready: true });

for await (const line of createInterface({ input: process.stdin })) {
  const [command, segment, envelope, ms] = line.trim().split(' ');
  if (command === 'quit') break;
  if (command === 'stats') {
    answer({ keyStoreQueries: hierarchy.stats().keyStoreQueries, revocations: hierarchy.stats().revocations });
  } else if (command === 'decrypt') {
    try {
      answer({ value: await hierarchy.decryptValue(envelope, context(segment)) });
    } catch (error) {
      answer({ code: codeOf(error) });
    }
  } else if (command === 'spin') {
    const until = Date.now() + Number(ms);
    let decrypts = 0;
    let code = 'still-decrypting';
    while (Date.now() < until) {
      try {
        await hierarchy.decryptValue(envelope, context(segment));
        decrypts++;
      } catch (error) {
        code = codeOf(error);
        break;
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    answer({ code, refusedAt: Date.now(), decrypts });
  }
}
await hierarchy.close();
