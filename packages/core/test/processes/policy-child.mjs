// A separate application process for the rotation-policy tests (issue 15 §3): opens the hierarchy on
// the test's SoftHSM2 token and key store (config.db: SQLite file, or config.pg: PostgreSQL URL),
// waits for config.goAt, then either writes (config.mode 'write': config.count values into
// config.segment in batches of 1…config.maxBatch) or enforces the policies ('enforce').
import { KeyHierarchy, Pkcs11RootKey, SqlKeyStore, createPostgresDriver, createSqliteDriver } from '../../dist/index.js';
import { envelopeDekId } from '../../dist/adapter.js';
import { answer, config, describeError } from './child-common.mjs';

/** Start-up retries (see child-common.mjs: a token opened while other processes use it sometimes fails once). */
async function openRootKey(token) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await Pkcs11RootKey.open({ module: token.module, tokenLabel: token.tokenLabel, pin: () => token.pin, moduleEnvironment: token.moduleEnvironment });
    } catch (error) {
      if (attempt === 5) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
}

const rootKey = await openRootKey(config.token);
const driver = config.pg ? await createPostgresDriver({ database: config.pg }) : await createSqliteDriver({ database: config.db });
const keyStore = new SqlKeyStore(driver);
const hierarchy = await KeyHierarchy.create({ rootKey, keyStore, cmkLabelPrefix: config.prefix, cache: { maxAgeMs: 200, writeRecheckMs: 100 } });
// A small deterministic generator, so a failing run can be repeated.
let seed = config.seed ?? 1;
const next = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed;
};
if (config.goAt !== undefined) await new Promise((resolve) => setTimeout(resolve, Math.max(0, config.goAt - Date.now())));
try {
  if (config.mode === 'enforce') {
    answer({ ok: true, result: await hierarchy.policies.enforce() });
  } else {
    const perDek = {};
    let written = 0;
    while (written < config.count) {
      const size = Math.min(config.count - written, 1 + (next() % config.maxBatch));
      const items = Array.from({ length: size }, (_, i) => ({
        value: `v${written + i}`,
        context: { model: 'Patient', field: 'ssn', recordId: `${config.name}-${written + i}`, segment: config.segment },
      }));
      const stored = await hierarchy.encryptValues(items);
      for (const text of stored) perDek[envelopeDekId(text)] = (perDek[envelopeDekId(text)] ?? 0) + 1;
      written += size;
    }
    // A block may still be fetched in the background: count it before reporting.
    await hierarchy.policies.settled();
    answer({ ok: true, written, perDek, stats: hierarchy.policies.usageStats });
  }
} catch (error) {
  answer({ ok: false, error: describeError(error) });
} finally {
  await keyStore.close();
  await rootKey.close();
}
