// Shared set-up of the child processes of the rotation tests: a KeyHierarchy on the test's SoftHSM2
// token and SQLite file (from KS_CHILD, JSON), and a ReencryptionHook over the raw `patients` table.
import Database from 'better-sqlite3';
import { KeyHierarchy, Pkcs11RootKey, SqlKeyStore, createSqliteDriver } from '../../dist/index.js';

export const config = JSON.parse(process.env.KS_CHILD ?? '{}');

/** Opens the hierarchy the way an application process would. */
export async function openHierarchy(cache = {}) {
  const token = config.token;
  const rootKey = await openRootKey(token);
  const keyStore = new SqlKeyStore(await createSqliteDriver({ database: config.db }));
  const hierarchy = await KeyHierarchy.create({ rootKey, keyStore, cmkLabelPrefix: config.prefix, cache });
  return {
    hierarchy,
    rootKey,
    keyStore,
    async close() {
      await keyStore.close();
      await rootKey.close();
    },
  };
}

/**
 * Opens the token. A process that starts while other processes use the same SoftHSM2 token
 * sometimes fails in Pkcs11SessionPool#findSlot: `HSM_UNAVAILABLE` "No initialised token" (about 1
 * open in 30 with two processes creating and destroying objects) or an untyped `CKR_GENERAL_ERROR`
 * thrown by C_GetTokenInfo (seen once in 16 two-process races). Reported to the owner of
 * core/src/root-key; start-up retries it a few times here so the rotation tests test rotation.
 */
async function openRootKey(token) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await Pkcs11RootKey.open({ module: token.module, tokenLabel: token.tokenLabel, pin: () => token.pin, moduleEnvironment: token.moduleEnvironment });
    } catch (error) {
      if (attempt === 5) throw error;
      process.stderr.write(`start-up: ${error?.code ?? ''} ${error?.message ?? error} (attempt ${attempt}); retrying\n`);
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
}

/** The data table's own connection. */
export function openTable() {
  const db = new Database(config.db);
  db.pragma('busy_timeout = 10000');
  return db;
}

/** A compare-and-swap ReencryptionHook over `patients(id, segment, ssn)`; `rewritten` counts real updates. */
export function tableHook(db) {
  const counter = { rewritten: 0 };
  const context = (segment, id) => ({ model: 'Patient', field: 'ssn', recordId: id, segment });
  const hook = {
    async scan({ segment, cursor, limit }) {
      const rows = db.prepare('SELECT id, ssn FROM patients WHERE segment = ? AND id > ? ORDER BY id LIMIT ?').all(segment, cursor ?? '', limit);
      return {
        records: rows.map((r) => ({ id: r.id, fields: [{ field: 'ssn', ciphertext: r.ssn, context: context(segment, r.id) }] })),
        cursor: rows.length < limit ? null : rows.at(-1).id,
      };
    },
    async write(updates) {
      const update = db.prepare('UPDATE patients SET ssn = ? WHERE id = ? AND ssn = ?');
      let written = 0;
      db.transaction(() => {
        for (const u of updates) written += update.run(u.fields[0].next, u.id, u.fields[0].previous).changes;
      })();
      counter.rewritten += written;
      return written;
    },
    async count({ segment }) {
      return db.prepare('SELECT COUNT(*) AS n FROM patients WHERE segment = ?').get(segment).n;
    },
  };
  return { hook, counter };
}

/** Prints the child's one-line JSON answer. */
export function answer(value) {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** `{ code, message }` of an error, typed or not. */
export function describeError(error) {
  return { code: error?.code ?? `untyped: ${error?.name ?? typeof error}`, message: String(error?.message ?? error) };
}
