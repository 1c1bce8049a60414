import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createDatabase } from '@keystrata/testing';
import { createPostgresDriver, createSqliteDriver, KeyHierarchy, KeystrataError, Pkcs11RootKey, SqlKeyStore, type FieldContext } from '../src/index.js';
import { envelopeDekId, kwpWrap } from '../src/adapter.js';

// Issue 11 §2: every wrapped key is bound to its identity. Written as the attacker: raw SQL on the
// SQLite key store file, then the application (a fresh process's view: an empty cache) reads and writes.

const ctx = (segment: string, recordId: string, keyring?: string): FieldContext => ({ model: 'Patient', field: 'ssn', recordId, segment, ...(keyring ? { keyring } : {}) });
const codeOf = async (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'none',
    (e) => (KeystrataError.isInstance(e) ? e.code : `untyped: ${String(e)}`),
  );

const opened: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const thing of opened.splice(0).reverse()) await thing.close();
});

async function rootKey(): Promise<Pkcs11RootKey> {
  const token = inject('softhsm');
  const key = await Pkcs11RootKey.open({ module: token.module, tokenLabel: token.tokenLabel, pin: () => token.pin, moduleEnvironment: token.moduleEnvironment });
  opened.push(key);
  return key;
}

/**
 * The root key as a version before issue 11 saw it: no audit key identity, so the trail starts
 * with a `generate` record, as trails of stores written before key bindings did.
 */
async function preBindingRoot(root: Pkcs11RootKey): Promise<Pkcs11RootKey> {
  if ((await root.auditKeyIdentity()) === undefined) await root.createAuditKey().catch(() => undefined);
  return new Proxy(root, {
    get(target, property) {
      if (property === 'auditKeyIdentity' || property === 'createAuditKey') return undefined;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** A hierarchy on a fresh SQLite key store, plus the attacker's raw handle on the same file. */
async function setup(options: { legacyKeys?: 'accept' | 'refuse'; preBindingTrail?: boolean } = {}) {
  const file = join(mkdtempSync(join(tmpdir(), 'bound-keys-')), 'keys.db');
  const { preBindingTrail, ...hierarchyOptions } = options;
  const root = preBindingTrail === true ? await preBindingRoot(await rootKey()) : await rootKey();
  const keyStore = new SqlKeyStore(await createSqliteDriver({ database: file }));
  opened.push(keyStore);
  const cmkLabelPrefix = `bound-${Math.random().toString(36).slice(2)}`;
  const h = await KeyHierarchy.create({ rootKey: root, keyStore, cmkLabelPrefix, ...hierarchyOptions });
  await h.provision();
  const sql = (statement: string, ...params: unknown[]) => {
    const db = new Database(file);
    try {
      return statement.trimStart().startsWith('SELECT') ? (db.prepare(statement).all(...params) as Array<Record<string, unknown>>) : db.prepare(statement).run(...params);
    } finally {
      db.close();
    }
  };
  const dekOf = (segment: string) => (sql('SELECT * FROM keystrata_dek WHERE segment = ? ORDER BY version DESC', segment) as Array<Record<string, unknown>>)[0]!;
  const unwrapFailures = async () => (await h.listAudit()).filter((r) => r.event === 'unwrap-failed').length;
  return { h, root, keyStore, file, sql, dekOf, unwrapFailures, cmkLabelPrefix };
}

describe('issue 11 §2 wrapped keys bound to their identity (SoftHSM2 + SQLite, raw SQL)', () => {
  it("issue 11 §2: swapping two segments' wrapped DEKs is refused with KEYSTORE_TAMPERED on reads and writes, and audited", async () => {
    const { h, sql, dekOf, unwrapFailures } = await setup();
    const a = await h.encryptValue('canary-a', ctx('tenant-a', 'r1'));
    await h.encryptValue('canary-b', ctx('tenant-b', 'r2'));
    const [da, db] = [dekOf('tenant-a'), dekOf('tenant-b')];
    sql('UPDATE keystrata_dek SET wrapped = ? WHERE id = ?', db.wrapped, da.id);
    sql('UPDATE keystrata_dek SET wrapped = ? WHERE id = ?', da.wrapped, db.id);
    h.clearCache();
    expect(await codeOf(h.decryptValue(a, ctx('tenant-a', 'r1')))).toBe('KEYSTORE_TAMPERED');
    // A new write for tenant-a must not seal under tenant-b's key.
    expect(await codeOf(h.encryptValue('new-a', ctx('tenant-a', 'r3')))).toBe('KEYSTORE_TAMPERED');
    expect(await unwrapFailures()).toBeGreaterThanOrEqual(2);
    // Undo the swap: everything written before is intact, nothing was written under the wrong key.
    sql('UPDATE keystrata_dek SET wrapped = ? WHERE id = ?', da.wrapped, da.id);
    sql('UPDATE keystrata_dek SET wrapped = ? WHERE id = ?', db.wrapped, db.id);
    h.clearCache();
    expect(await h.decryptValue(a, ctx('tenant-a', 'r1'))).toBe('canary-a');
  });

  it('issue 11 §2: swapping the segment column of two DEK rows is refused with KEYSTORE_TAMPERED on reads and writes', async () => {
    const { h, sql, dekOf } = await setup();
    const a = await h.encryptValue('canary-a', ctx('tenant-a', 'r1'));
    const b = await h.encryptValue('canary-b', ctx('tenant-b', 'r2'));
    const [da, db] = [dekOf('tenant-a'), dekOf('tenant-b')];
    sql('UPDATE keystrata_dek SET segment = ? WHERE id = ?', 'swap', da.id);
    sql('UPDATE keystrata_dek SET segment = ? WHERE id = ?', 'tenant-a', db.id);
    sql('UPDATE keystrata_dek SET segment = ? WHERE id = ?', 'tenant-b', da.id);
    h.clearCache();
    // Tenant b's value, read in tenant a's row (its DEK row now claims segment tenant-a): refused.
    expect(await codeOf(h.decryptValue(b, ctx('tenant-a', 'r2')))).toBe('KEYSTORE_TAMPERED');
    expect(await codeOf(h.decryptValue(a, ctx('tenant-a', 'r1')))).toBe('KEYSTORE_TAMPERED');
    expect(await codeOf(h.encryptValue('new-a', ctx('tenant-a', 'r3')))).toBe('KEYSTORE_TAMPERED');
  });

  it('issue 11 §2: a DEK row relabelled to another segment is refused for writes even while its key is cached', async () => {
    const { h, sql, dekOf } = await setup({});
    await h.encryptValue('canary-a', ctx('tenant-a', 'r1'));
    const b = await h.encryptValue('canary-b', ctx('tenant-b', 'r2'));
    const db = dekOf('tenant-b');
    await h.decryptValue(b, ctx('tenant-b', 'r2')); // tenant-b's DEK is warm in the cache
    sql('UPDATE keystrata_dek SET version = 2, segment = ? WHERE id = ?', 'tenant-a', db.id);
    h.clearCache();
    await h.decryptValue(b, ctx('tenant-b', 'r2')).catch(() => undefined);
    expect(await codeOf(h.encryptValue('new-a', ctx('tenant-a', 'r3')))).toBe('KEYSTORE_TAMPERED');
  });

  it("issue 11 §2: swapping KEK versions' rows is refused with KEYSTORE_TAMPERED for old DEKs and for new DEKs", async () => {
    const { h, sql, unwrapFailures } = await setup();
    const a = await h.encryptValue('canary-a', ctx('tenant-a', 'r1'));
    await h.rotateKek();
    const b = await h.encryptValue('canary-b', ctx('tenant-b', 'r2'));
    const [k1, k2] = sql('SELECT * FROM keystrata_kek ORDER BY version') as Array<Record<string, unknown>>;
    sql('UPDATE keystrata_kek SET wrapped = ?, binding = ? WHERE version = 1', k2!.wrapped, k2!.binding);
    sql('UPDATE keystrata_kek SET wrapped = ?, binding = ? WHERE version = 2', k1!.wrapped, k1!.binding);
    h.clearCache();
    expect(await codeOf(h.decryptValue(a, ctx('tenant-a', 'r1')))).toBe('KEYSTORE_TAMPERED');
    expect(await codeOf(h.decryptValue(b, ctx('tenant-b', 'r2')))).toBe('KEYSTORE_TAMPERED');
    expect(await codeOf(h.encryptValue('new', ctx('tenant-new', 'r3')))).toBe('KEYSTORE_TAMPERED');
    // Only the wrapped blobs swapped (bindings left in place): refused too.
    sql('UPDATE keystrata_kek SET binding = ? WHERE version = 1', k1!.binding);
    sql('UPDATE keystrata_kek SET binding = ? WHERE version = 2', k2!.binding);
    h.clearCache();
    expect(await codeOf(h.encryptValue('new', ctx('tenant-new', 'r3')))).toBe('KEYSTORE_TAMPERED');
    expect(await unwrapFailures()).toBeGreaterThanOrEqual(3);
    expect((sql("SELECT COUNT(*) AS n FROM keystrata_dek WHERE segment = 'tenant-new'") as Array<{ n: number }>)[0]!.n).toBe(0);
  });

  it('issue 11 §2: an empty wrapped KEK is refused with KEYSTORE_TAMPERED before it reaches the HSM, and audited', async () => {
    const { h, sql, unwrapFailures } = await setup();
    const a = await h.encryptValue('canary-a', ctx('tenant-a', 'r1'));
    sql("UPDATE keystrata_kek SET wrapped = '' WHERE version = 1");
    h.clearCache();
    expect(await codeOf(h.decryptValue(a, ctx('tenant-a', 'r1')))).toBe('KEYSTORE_TAMPERED');
    expect(await unwrapFailures()).toBe(1);
  });

  it('Precondition: a wrapped KEK has a length its format allows before it reaches the HSM.', async () => {
    const { h, sql, root, unwrapFailures } = await setup();
    const a = await h.encryptValue('canary-a', ctx('tenant-a', 'r1'));
    const calls = root.stats.hsmCalls;
    sql('UPDATE keystrata_kek SET wrapped = ? WHERE version = 1', Buffer.alloc(48, 1).toString('base64'));
    h.clearCache();
    expect(await codeOf(h.decryptValue(a, ctx('tenant-a', 'r1')))).toBe('KEYSTORE_TAMPERED');
    expect(root.stats.hsmCalls - calls).toBe(1); // the audit record's MAC only, no unwrap
    expect(await unwrapFailures()).toBe(1);
  });

  it('issue 11 §2: replaying an old wrapped DEK (before a rewrap, or another version of the segment) is refused with KEYSTORE_TAMPERED', async () => {
    const { h, sql, dekOf } = await setup();
    const a = await h.encryptValue('canary-a', ctx('tenant-a', 'r1'));
    const before = dekOf('tenant-a');
    await h.rotateKek();
    expect(await h.rewrapDeks()).toMatchObject({ rewrapped: 1, failed: 0 });
    sql('UPDATE keystrata_dek SET wrapped = ? WHERE id = ?', before.wrapped, before.id); // old blob, row says KEK v2
    h.clearCache();
    expect(await codeOf(h.decryptValue(a, ctx('tenant-a', 'r1')))).toBe('KEYSTORE_TAMPERED');
    expect(await codeOf(h.encryptValue('new-a', ctx('tenant-a', 'r2')))).toBe('KEYSTORE_TAMPERED');
    // Another DEK version's blob of the same segment, under the same KEK.
    const { h: h2, sql: sql2, dekOf: dekOf2 } = await setup();
    const v1 = await h2.encryptValue('canary-v1', ctx('tenant-a', 'r1'));
    const old = dekOf2('tenant-a');
    const id2 = randomBytes(16).toString('hex');
    sql2("INSERT INTO keystrata_dek VALUES (?, ?, 'tenant-a', 2, ?, ?, 'primary', 'x', 'x')", id2, old.keyring, old.kek_version, old.wrapped);
    h2.clearCache();
    expect(await codeOf(h2.encryptValue('new', ctx('tenant-a', 'r2')))).toBe('KEYSTORE_TAMPERED');
    expect(await h2.decryptValue(v1, ctx('tenant-a', 'r1'))).toBe('canary-v1');
  });

  it("issue 11 §2: a value written under keyring A is refused when read as B, as a keyring that does not exist, and after B's segment was shredded", async () => {
    const { h } = await setup();
    await h.provision('clinic-a');
    await h.provision('clinic-b');
    const a = await h.encryptValue('canary-a', ctx('tenant-1', 'r1', 'clinic-a'));
    await h.encryptValue('canary-b', ctx('tenant-1', 'r2', 'clinic-b'));
    expect(await h.decryptValue(a, ctx('tenant-1', 'r1', 'clinic-a'))).toBe('canary-a');
    expect(await codeOf(h.decryptValue(a, ctx('tenant-1', 'r1', 'clinic-b')))).toBe('CIPHERTEXT_TAMPERED');
    expect(await codeOf(h.decryptValue(a, ctx('tenant-1', 'r1', 'no-such-keyring')))).toBe('CIPHERTEXT_TAMPERED');
    expect(await codeOf(h.decryptValue(a, { model: 'Patient', field: 'ssn', recordId: 'r1' }))).toBe('CIPHERTEXT_TAMPERED'); // default keyring
    await h.destroy({ kind: 'segment', segment: 'tenant-1', keyring: 'clinic-b' });
    h.clearCache();
    expect(await codeOf(h.decryptValue(a, ctx('tenant-1', 'r1', 'clinic-b')))).toBe('CIPHERTEXT_TAMPERED');
    const settled = await h.decryptValuesSettled([
      { ciphertext: a, context: ctx('tenant-1', 'r1', 'clinic-b') },
      { ciphertext: a, context: ctx('tenant-1', 'r1', 'clinic-a') },
    ]);
    expect(settled.map((r) => (r.ok ? r.value : r.error.code))).toEqual(['CIPHERTEXT_TAMPERED', 'canary-a']);
  });

  it('issue 11 §2: a backup carries KEK bindings and bound DEKs, so a restored store works with legacyKeys "refuse"', async () => {
    const { h, root, cmkLabelPrefix } = await setup();
    const a = await h.encryptValue('canary-a', ctx('tenant-a', 'r1'));
    const backup = await h.exportBackup();
    const fresh = new SqlKeyStore(await createSqliteDriver({ database: join(mkdtempSync(join(tmpdir(), 'bound-restore-')), 'keys.db') }));
    opened.push(fresh);
    const restored = await KeyHierarchy.create({ rootKey: root, keyStore: fresh, cmkLabelPrefix, legacyKeys: 'refuse' });
    await restored.importBackup(backup);
    expect((await fresh.listKeks())[0]!.binding).toMatch(/^b1\./);
    expect(await restored.decryptValue(a, ctx('tenant-a', 'r1'))).toBe('canary-a');
  });

  it('issue 11 §2: legacy keys stay readable, `rewrapDeks` binds them, and `legacyKeys: "refuse"` then refuses a replayed legacy blob', async () => {
    const { h, root, sql, dekOf, keyStore, cmkLabelPrefix } = await setup({ preBindingTrail: true });
    // Make the store look like one written before bindings: a trail without its audit-key record
    // (preBindingTrail), a KEK without binding, a DEK in RFC 5649.
    sql("UPDATE keystrata_kek SET binding = ''");
    const [kekRow] = sql('SELECT * FROM keystrata_kek') as Array<Record<string, unknown>>;
    const [cmkRow] = sql('SELECT * FROM keystrata_cmk') as Array<Record<string, unknown>>;
    const kek = await root.unwrapKek({ label: String(cmkRow!.hsm_label), id: String(cmkRow!.hsm_id) }, Buffer.from(String(kekRow!.wrapped), 'base64'));
    const dekBytes = randomBytes(32);
    const legacyBlob = kwpWrap(kek.exposeSecretBytes(), dekBytes).toString('base64');
    kek.destroy();
    sql("INSERT INTO keystrata_dek VALUES (?, 'default', 'tenant-old', 1, 1, ?, 'primary', 'x', 'x')", randomBytes(16).toString('hex'), legacyBlob);
    h.clearCache();
    const old = await h.encryptValue('canary-old', ctx('tenant-old', 'r1'));
    expect(await h.legacyKeys()).toEqual({ keyring: 'default', keks: 1, deks: 1 });
    const result = await h.rewrapDeks();
    expect(result).toMatchObject({ rewrapped: 1, failed: 0, boundKeks: 1 });
    expect(await h.legacyKeys()).toEqual({ keyring: 'default', keks: 0, deks: 0 });
    expect(String(dekOf('tenant-old').wrapped)).toMatch(/^k2\./);
    const strict = await KeyHierarchy.create({ rootKey: root, keyStore, cmkLabelPrefix, legacyKeys: 'refuse' });
    expect(await strict.decryptValue(old, ctx('tenant-old', 'r1'))).toBe('canary-old');
    // The attacker puts the pre-migration legacy blob back: a strict hierarchy refuses it.
    sql('UPDATE keystrata_dek SET wrapped = ? WHERE id = ?', legacyBlob, envelopeDekId(old));
    strict.clearCache();
    expect(await codeOf(strict.decryptValue(old, ctx('tenant-old', 'r1')))).toBe('KEYSTORE_TAMPERED');
    // ... and its rewrap does not launder the blob into the bound format.
    expect(await strict.rewrapDeks()).toMatchObject({ rewrapped: 0, failed: 1, failures: [{ code: 'KEYSTORE_TAMPERED' }] });
    sql("UPDATE keystrata_kek SET binding = ''");
    strict.clearCache();
    expect(await codeOf(strict.encryptValue('x', ctx('tenant-new', 'r9')))).toBe('KEYSTORE_TAMPERED');
    expect(await codeOf(strict.rewrapDeks())).toBe('KEYSTORE_TAMPERED');
  });
});

describe('issue 11 §2 wrapped keys bound to their identity (SoftHSM2 + PostgreSQL, raw SQL)', () => {
  it("issue 11 §2: on PostgreSQL, swapping two segments' wrapped DEKs and two KEK versions' wrapped KEKs is refused with KEYSTORE_TAMPERED on reads and writes", async () => {
    const url = await createDatabase(inject('postgresUrl'), 'bound_keys');
    const keyStore = new SqlKeyStore(await createPostgresDriver({ database: url }));
    opened.push(keyStore);
    const h = await KeyHierarchy.create({ rootKey: await rootKey(), keyStore, cmkLabelPrefix: `bound-${Math.random().toString(36).slice(2)}` });
    await h.provision();
    const a = await h.encryptValue('canary-a', ctx('tenant-a', 'r1'));
    await h.encryptValue('canary-b', ctx('tenant-b', 'r2'));
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(`UPDATE keystrata_dek d SET wrapped = o.wrapped FROM keystrata_dek o
        WHERE d.segment IN ('tenant-a', 'tenant-b') AND o.segment IN ('tenant-a', 'tenant-b') AND o.segment <> d.segment`);
      h.clearCache();
      expect(await codeOf(h.decryptValue(a, ctx('tenant-a', 'r1')))).toBe('KEYSTORE_TAMPERED');
      expect(await codeOf(h.encryptValue('new-a', ctx('tenant-a', 'r3')))).toBe('KEYSTORE_TAMPERED');
      await h.rotateKek();
      await client.query(`UPDATE keystrata_kek k SET wrapped = o.wrapped FROM keystrata_kek o WHERE k.version <> o.version`);
      h.clearCache();
      expect(await codeOf(h.encryptValue('new', ctx('tenant-new', 'r4')))).toBe('KEYSTORE_TAMPERED');
      const { rows } = await client.query("SELECT COUNT(*)::int AS n FROM keystrata_dek WHERE segment = 'tenant-new'");
      expect(rows[0].n).toBe(0);
    } finally {
      await client.end();
    }
  });
});

const OLD_KEK_TABLE = `CREATE TABLE keystrata_kek (
    keyring TEXT NOT NULL, version INTEGER NOT NULL, cmk_version INTEGER NOT NULL, wrapped TEXT NOT NULL,
    state TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
    PRIMARY KEY (keyring, version))`;

describe('issue 11 §2 the binding column migration', () => {
  it('issue 11 §2: migrate() adds keystrata_kek.binding to an existing SQLite store, idempotently, and old KEK rows read as legacy', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'bound-migrate-')), 'keys.db');
    const db = new Database(file);
    db.exec(OLD_KEK_TABLE);
    db.prepare("INSERT INTO keystrata_kek VALUES ('default', 1, 1, 'AAAA', 'primary', 'x', 'x')").run();
    db.close();
    const store = new SqlKeyStore(await createSqliteDriver({ database: file }));
    opened.push(store);
    await store.migrate();
    await store.migrate();
    expect((await store.listKeks())[0]).toMatchObject({ version: 1, binding: '' });
  });

  it('issue 11 §2: migrate() adds keystrata_kek.binding to an existing PostgreSQL store, idempotently', async () => {
    const url = await createDatabase(inject('postgresUrl'), 'bound_migrate');
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(OLD_KEK_TABLE);
    await client.query("INSERT INTO keystrata_kek VALUES ('default', 1, 1, 'AAAA', 'primary', 'x', 'x')");
    await client.end();
    const store = new SqlKeyStore(await createPostgresDriver({ database: url }));
    opened.push(store);
    await store.migrate();
    await store.migrate();
    expect((await store.listKeks())[0]).toMatchObject({ version: 1, binding: '' });
  });
});
