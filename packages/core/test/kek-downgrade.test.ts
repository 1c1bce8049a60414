import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { KeyHierarchy, KeystrataError, type FieldContext } from '../src/index.js';
import { kwpWrap } from '../src/adapter.js';
import { sqliteStack } from './stacks.js';

const ctx = (segment: string, recordId: string): FieldContext => ({ model: 'Patient', field: 'ssn', recordId, segment });
const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e) => (KeystrataError.isInstance(e) ? e.code : String(e)),
  );

describe('issue 11 §2 (review): KEK binding downgrade on a store that never had legacy keys', () => {
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c().catch(() => undefined);
  });

  it('issue 11 §2 (review): blanked bindings on swapped KEK versions are refused for writes and rewrap in a store started with bindings (default legacyKeys)', async () => {
    const stack = await sqliteStack();
    closers.push(() => stack.close());
    const prefix = `rv-${Math.random().toString(36).slice(2)}`;
    const h = await KeyHierarchy.create({ rootKey: stack.rootKey, keyStore: stack.keyStore, cmkLabelPrefix: prefix });
    await h.provision();
    await h.rotateKek(); // v1 enabled, v2 primary, both bound, no legacy key ever existed
    expect(await h.legacyKeys()).toEqual({ keyring: 'default', keks: 0, deks: 0 });
    const db = new Database(stack.file);
    const keks = db.prepare('SELECT version, wrapped, binding FROM keystrata_kek ORDER BY version').all() as Array<{ version: number; wrapped: string; binding: string }>;
    const swap = () => {
      db.prepare(`UPDATE keystrata_kek SET wrapped = ?, binding = '' WHERE version = 1`).run(keks[1]!.wrapped);
      db.prepare(`UPDATE keystrata_kek SET wrapped = ?, binding = '' WHERE version = 2`).run(keks[0]!.wrapped);
    };
    swap();
    // rewrap must not launder the swapped, unbound KEKs into bound ones either.
    const rewrapper = await KeyHierarchy.create({ rootKey: stack.rootKey, keyStore: stack.keyStore, cmkLabelPrefix: prefix });
    expect(await codeOf(rewrapper.rewrapDeks())).toBe('KEYSTORE_TAMPERED');
    const writer = await KeyHierarchy.create({ rootKey: stack.rootKey, keyStore: stack.keyStore, cmkLabelPrefix: prefix });
    const write = await codeOf(writer.encryptValues([{ value: 'precious', context: ctx('tenant:new', 'n1') }]));
    const [ct] = write === 'ok' ? await writer.encryptValues([{ value: 'precious', context: ctx('tenant:new', 'n1') }]) : [''];
    // The DBA undoes the swap (or restores a backup).
    db.prepare(`UPDATE keystrata_kek SET wrapped = ?, binding = ? WHERE version = 1`).run(keks[0]!.wrapped, keks[0]!.binding);
    db.prepare(`UPDATE keystrata_kek SET wrapped = ?, binding = ? WHERE version = 2`).run(keks[1]!.wrapped, keks[1]!.binding);
    db.close();
    const reader = await KeyHierarchy.create({ rootKey: stack.rootKey, keyStore: stack.keyStore, cmkLabelPrefix: prefix });
    const read = await codeOf(reader.decryptValue(ct, ctx('tenant:new', 'n1')));
    expect(write).toBe('KEYSTORE_TAMPERED');
    expect(read).not.toBe('ok');
  });
  it('issue 11 §2 (review): a legacy (unbound) DEK blob in a store started with bindings is refused for reads and writes under the default legacyKeys', async () => {
    const stack = await sqliteStack();
    closers.push(() => stack.close());
    const prefix = `rv-${Math.random().toString(36).slice(2)}`;
    const h = await KeyHierarchy.create({ rootKey: stack.rootKey, keyStore: stack.keyStore, cmkLabelPrefix: prefix });
    await h.provision();
    const stored = await h.encryptValue('precious', ctx('tenant:a', 'a1'));
    const db = new Database(stack.file);
    const [kekRow] = db.prepare('SELECT * FROM keystrata_kek').all() as Array<Record<string, unknown>>;
    const [cmkRow] = db.prepare('SELECT * FROM keystrata_cmk').all() as Array<Record<string, unknown>>;
    // The strongest attacker: one who can unwrap the KEK writes a legacy RFC 5649 blob (no identity) for a DEK row.
    const kek = await stack.rootKey.unwrapKek({ label: String(cmkRow!.hsm_label), id: String(cmkRow!.hsm_id) }, Buffer.from(String(kekRow!.wrapped), 'base64'));
    const legacyBlob = kwpWrap(kek.exposeSecretBytes(), randomBytes(32)).toString('base64');
    kek.destroy();
    db.prepare("UPDATE keystrata_dek SET wrapped = ? WHERE segment = 'tenant:a'").run(legacyBlob);
    db.close();
    const reader = await KeyHierarchy.create({ rootKey: stack.rootKey, keyStore: stack.keyStore, cmkLabelPrefix: prefix });
    expect(await codeOf(reader.decryptValue(stored, ctx('tenant:a', 'a1')))).toBe('KEYSTORE_TAMPERED');
    expect(await codeOf(reader.encryptValue('more', ctx('tenant:a', 'a2')))).toBe('KEYSTORE_TAMPERED');
    expect(await reader.rewrapDeks()).toMatchObject({ rewrapped: 0, failed: 1, failures: [{ code: 'KEYSTORE_TAMPERED' }] });
  });
});
