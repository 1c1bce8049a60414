// A second application process for issue 11 §5 tests: one hierarchy on the given SQLite key store,
// driven by lines on stdin ("encrypt <segment>"), answering one JSON line each on stdout.
import { createInterface } from 'node:readline';
import { KeyHierarchy, KeystrataError, Pkcs11RootKey, SqlKeyStore, createSqliteDriver } from '../../dist/index.js';
import { envelopeDekId } from '../../dist/adapter.js';

const { database, token, cmkLabelPrefix, cache } = JSON.parse(process.env.KEYSTRATA_TEST_WRITER);
const rootKey = await Pkcs11RootKey.open({ module: token.module, tokenLabel: token.tokenLabel, pin: () => token.pin, moduleEnvironment: token.moduleEnvironment });
const keyStore = new SqlKeyStore(await createSqliteDriver({ database }));
const hierarchy = await KeyHierarchy.create({ rootKey, keyStore, cmkLabelPrefix, cache });
const answer = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);
answer({ ready: true });
for await (const line of createInterface({ input: process.stdin })) {
  const [command, segment] = line.trim().split(' ');
  if (command === 'quit') break;
  try {
    const envelope = await hierarchy.encryptValue('canary-from-writer', { model: 'Patient', field: 'ssn', recordId: 'w1', segment });
    answer({ dek: envelopeDekId(envelope), envelope });
  } catch (error) {
    answer({ code: KeystrataError.isInstance(error) ? error.code : `untyped: ${String(error)}` });
  }
}
await hierarchy.close();
