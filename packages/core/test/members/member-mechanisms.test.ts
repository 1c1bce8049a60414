import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { createSqliteDriver, decodeMemberCopies, encodeMemberCopies, KeyHierarchy, MemberRootKey, openPkcs11Members, Pkcs11RootKey, SqlKeyStore, syncRootMember } from '../../src/index.js';
// @ts-expect-error: a plain .mjs helper shared with the child processes
import { createMemberToken } from './member-tokens.mjs';
import { closedAfterEach, codeOf, type MemberToken, options, relabelled } from './member-test-kit.js';

const closing = closedAfterEach();

/** The blob with its `kw` header naming CKM_AES_KEY_WRAP_PAD (0x210A) instead of CKM_AES_KEY_WRAP: 40 bytes is a length 0x210A promises. */

describe('issue 14 §mechanism: a wrapped blob naming a mechanism one member does not offer', () => {
  it('issue 14 §mechanism: fails that one unwrap there (CIPHERTEXT_TAMPERED, offered: false), never marks the member refused (it serves every other key), a read through that copy fails as tampering, and a CMK rotation that drops the copy audits it', async () => {
    const a = createMemberToken('a') as MemberToken;
    // A real SoftHSM2 whose slot does not offer CKM_AES_KEY_WRAP_PAD: softhsm2.conf `slots.mechanisms` lists what it offers
    // (SoftHSM2 2.6.1 ignores the `-CKM_…` form, so the list is written out).
    const b = createMemberToken('b') as MemberToken;
    appendFileSync(b.conf, 'slots.mechanisms = CKM_AES_KEY_GEN,CKM_AES_KEY_WRAP,CKM_GENERIC_SECRET_KEY_GEN,CKM_SHA256_HMAC\n');
    const rootKey = await openPkcs11Members({ kind: 'independent', members: [options(a), options(b)] });
    closing.push(rootKey);
    const file = join(mkdtempSync(join(tmpdir(), 'keystrata-mechanism-')), 'keys.db');
    const keyStore = new SqlKeyStore(await createSqliteDriver({ database: file }));
    closing.push(keyStore);
    const h = await KeyHierarchy.create({ rootKey, keyStore });
    await h.provision();
    const values = [];
    for (let version = 1; version <= 2; version++) {
      if (version > 1) await h.rotateKek();
      const context = { model: 'P', field: 'f', recordId: `r${version}`, segment: `s${version}` };
      values.push({ ciphertext: await h.encryptValue(`canary-${version}`, context), context });
    }
    // B's copy of KEK v1 now names a mechanism B's module does not offer (an edited row, or a copy written by another module).
    const db = new Database(file);
    const stored = (db.prepare('SELECT wrapped FROM keystrata_kek WHERE version = 1').get() as { wrapped: string }).wrapped;
    const copies = decodeMemberCopies(Buffer.from(stored, 'base64')).map((c) => (c.member === 'b' ? { ...c, wrapped: relabelled(c.wrapped) } : c));
    db.prepare('UPDATE keystrata_kek SET wrapped = ? WHERE version = 1').run(encodeMemberCopies(copies).toString('base64'));
    db.close();

    // B alone, asked for that copy: B cannot have written it, so it is a tampered blob; then B unwraps KEK v2 as before.
    const onlyB = MemberRootKey.create({ kind: 'independent', members: [{ name: 'b', rootKey: await Pkcs11RootKey.open({ ...options(b), acceptImportedAuditKey: true }) }] });
    closing.push(onlyB);
    const [kek1, kek2] = await keyStore.listKeks('default');
    const [cmk] = await keyStore.listCmks('default');
    const ref = { label: cmk!.hsmLabel, id: cmk!.hsmId };
    expect(await codeOf(onlyB.unwrapKek(ref, Buffer.from(kek1!.wrapped, 'base64')))).toBe('CIPHERTEXT_TAMPERED');
    const key = await onlyB.unwrapKek(ref, Buffer.from(kek2!.wrapped, 'base64'));
    expect(key.length).toBe(32);
    key.destroy();
    expect(onlyB.stats.members![0]).toMatchObject({ name: 'b', state: 'healthy' });

    // Both members under cold reads: a read whose KEK v1 B unwraps from its own copy fails as tampering (B did not write
    // that copy; no other member is tried, as for any tampered copy), one A serves succeeds; B stays healthy and keeps serving.
    for (let i = 0; i < 8; i++) {
      h.clearCache();
      const outcome = await h.decryptValues(values).then(
        (read) => read.join(','),
        (error: { code?: string }) => error.code ?? 'untyped',
      );
      expect(['canary-1,canary-2', 'KEYSTORE_TAMPERED']).toContain(outcome);
    }
    const bStats = rootKey.stats.members!.find((m) => m.name === 'b')!;
    expect(bStats).toMatchObject({ state: 'healthy', failovers: 0 });
    expect(bStats.calls).toBeGreaterThan(0);
    // A CMK rotation drops B's unusable copy instead of failing, audited; add-member (sync) gives B a fresh one.
    await h.rotateCmk();
    const dropped = (await h.listAudit()).filter((r) => r.event === 'member' && r.subject === 'member:b' && r.details.includes('"dropped"'));
    expect(dropped.map((r) => JSON.parse(r.details))).toEqual([{ member: 'b', from: 'healthy', to: 'healthy', reason: 'CIPHERTEXT_TAMPERED', dropped: 'kek-copy' }]);
    expect((await syncRootMember({ rootKey, keyStore, member: 'b' })).copiesAdded).toBe(1);
    h.clearCache();
    expect(await h.decryptValues(values)).toEqual(['canary-1', 'canary-2']);
    await h.verifyAudit();
  });
});
