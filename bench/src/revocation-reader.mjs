// The other application instance of the revocation bench (revocation.bench.ts): one hierarchy on
// the given key store with its cache warm; lines on stdin, one JSON line answered each:
//   warm <segment> <envelope>          → decrypts once: { value } or { code }
//   spin <segment> <envelope> <ms>     → decrypts in a loop until refused: { code, refusedAt }
//   burst <segment> <envelope> <n>     → n warm decrypts: { queries, checks, ms }
import { createInterface } from 'node:readline';
import { KeyHierarchy, KeystrataError, Pkcs11RootKey, SqlKeyStore, createPostgresDriver, createSqliteDriver } from '@keystrata/core';

const { kind, database, token, cmkLabelPrefix, cache } = JSON.parse(process.env.KEYSTRATA_BENCH_READER);
const rootKey = await Pkcs11RootKey.open({ module: token.module, tokenLabel: token.tokenLabel, pin: () => token.pin, moduleEnvironment: token.moduleEnvironment });
const driver = kind === 'postgres' ? await createPostgresDriver({ database }) : await createSqliteDriver({ database });
const hierarchy = await KeyHierarchy.create({ rootKey, keyStore: new SqlKeyStore(driver), cmkLabelPrefix, cache });
const answer = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);
const context = (segment) => ({ model: 'Patient', field: 'ssn', recordId: 'r1', segment });
const codeOf = (error) => (KeystrataError.isInstance(error) ? error.code : `untyped: ${String(error)}`);
answer({ ready: true, mode: hierarchy.stats().revocations?.mode });
for await (const line of createInterface({ input: process.stdin })) {
  const [command, segment, envelope, arg] = line.trim().split(' ');
  if (command === 'quit') break;
  if (command === 'warm') {
    try {
      answer({ value: await hierarchy.decryptValue(envelope, context(segment)) });
    } catch (error) {
      answer({ code: codeOf(error) });
    }
  } else if (command === 'spin') {
    const until = Date.now() + Number(arg);
    let code = 'still-decrypting';
    answer({ spinning: true });
    while (Date.now() < until) {
      try {
        await hierarchy.decryptValue(envelope, context(segment));
      } catch (error) {
        code = codeOf(error);
        break;
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    answer({ code, refusedAt: Date.now() });
  } else if (command === 'burst') {
    const before = hierarchy.stats();
    const started = performance.now();
    for (let n = 0; n < Number(arg); n++) await hierarchy.decryptValue(envelope, context(segment));
    const after = hierarchy.stats();
    answer({
      queries: after.keyStoreQueries - before.keyStoreQueries,
      checks: (after.revocations?.checks ?? 0) - (before.revocations?.checks ?? 0),
      ms: performance.now() - started,
      mode: after.revocations?.mode,
    });
  }
}
await hierarchy.close();
