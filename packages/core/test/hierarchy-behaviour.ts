import { describe, expect, it, beforeEach, afterEach } from 'vitest';
import { KeyHierarchy, KeystrataError, type FieldContext, type HierarchyStats, type KeyStore, type ReencryptionHook, type RootKey } from '../src/index.js';
import { envelopeDekId } from '../src/adapter.js';

/** A root key and key store for one test; `reopen` gives a second process's view of the same store. */
export interface Stack {
  readonly rootKey: RootKey;
  readonly keyStore: KeyStore;
  /** A fresh, empty key store on the same kind of database (for backup restore). */
  freshKeyStore(): Promise<KeyStore>;
  /** Edits the `details` of audit record `seq` directly in the database. */
  editAuditRow(seq: number): Promise<void>;
  close(): Promise<void>;
}

const codeOf = async (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'none',
    (e) => (KeystrataError.isInstance(e) ? e.code : `untyped: ${String(e)}`),
  );
const ctx = (segment: string, recordId: string, field = 'ssn', model = 'Patient'): FieldContext => ({ model, field, recordId, segment });

/**
 * The hierarchy behaviour every root-key/key-store combination must show, on the AES-GCM path
 * `aead` names (issue 16: every tamper test runs on the native addon and on node:crypto).
 */
export function describeHierarchy(name: string, makeStack: () => Promise<Stack>, aead: 'native' | 'node:crypto' = 'native'): void {
  describe(`KeyHierarchy on ${name}${aead === 'native' ? '' : ` (${aead})`}`, () => {
    let stack: Stack;
    let h: KeyHierarchy;
    beforeEach(async () => {
      stack = await makeStack();
      h = await KeyHierarchy.create({ rootKey: stack.rootKey, keyStore: stack.keyStore, cmkLabelPrefix: `test-${Math.random().toString(36).slice(2)}`, aead });
      await h.provision();
    });
    afterEach(async () => {
      h.clearCache();
      await stack.close();
    });

    it(`issue 16 §paths: seals and opens on the ${aead} path, and says so in stats()`, async () => {
      expect(h.stats().aead).toBe(aead);
      const stored = await h.encryptValue('canary-path', ctx('s1', 'r1'));
      expect(await h.decryptValue(stored, ctx('s1', 'r1'))).toBe('canary-path');
    });

    it('round-trips typed values across segments and keyrings', async () => {
      await h.provision('tenant-b');
      const items = [
        { value: 'canary-ssn-111', context: ctx('s1', 'r1') },
        { value: 42, context: ctx('s2', 'r2', 'age') },
        { value: { a: 1 }, context: { ...ctx('s3', 'r3', 'notes'), keyring: 'tenant-b' } },
      ];
      const stored = await h.encryptValues(items);
      for (const text of stored) expect(text).not.toContain('canary');
      expect(await h.decryptValues(stored.map((ciphertext, i) => ({ ciphertext, context: items[i]!.context })))).toEqual(items.map((i) => i.value));
    });

    it('fails values swapped between records, fields and segments', async () => {
      const a = await h.encryptValue('canary-a', ctx('s1', 'r1'));
      const b = await h.encryptValue('canary-b', ctx('s2', 'r2'));
      expect(await codeOf(h.decryptValue(a, ctx('s1', 'r2')))).toBe('CIPHERTEXT_TAMPERED');
      expect(await codeOf(h.decryptValue(a, ctx('s1', 'r1', 'email')))).toBe('CIPHERTEXT_TAMPERED');
      expect(await codeOf(h.decryptValue(b, ctx('s1', 'r2')))).toBe('CIPHERTEXT_TAMPERED');
      expect(await codeOf(h.decryptValue('canary-plain', ctx('s1', 'r1')))).toBe('CIPHERTEXT_MALFORMED');
      expect(await h.decryptValue(b, ctx('s2', 'r2'))).toBe('canary-b');
    });

    it('revoking a DEK makes exactly its segment unreadable, reversibly; destroying is final', async () => {
      const a = await h.encryptValue('canary-a', ctx('s1', 'r1'));
      const b = await h.encryptValue('canary-b', ctx('s2', 'r2'));
      await h.disable({ kind: 'segment', segment: 's1' });
      expect(await codeOf(h.decryptValue(a, ctx('s1', 'r1')))).toBe('KEY_DISABLED');
      expect(await codeOf(h.encryptValue('new', ctx('s1', 'r3')))).toBe('KEY_DISABLED');
      expect(await h.decryptValue(b, ctx('s2', 'r2'))).toBe('canary-b');
      await h.enable({ kind: 'segment', segment: 's1' });
      expect(await h.decryptValue(a, ctx('s1', 'r1'))).toBe('canary-a');
      await h.destroy({ kind: 'dek', id: envelopeDekId(a) });
      expect(await codeOf(h.decryptValue(a, ctx('s1', 'r1')))).toBe('KEY_DESTROYED');
      expect(await codeOf(h.enable({ kind: 'dek', id: envelopeDekId(a) }))).toBe('KEY_DESTROYED'); // issue 11 §5: refused, was 'none'
      expect(await codeOf(h.decryptValue(a, ctx('s1', 'r1')))).toBe('KEY_DESTROYED');
      expect(await h.decryptValue(b, ctx('s2', 'r2'))).toBe('canary-b');
    });

    it('revoking a KEK version makes exactly the segments under it unreadable', async () => {
      const a = await h.encryptValue('canary-a', ctx('s1', 'r1'));
      await h.rotateKek();
      const b = await h.encryptValue('canary-b', ctx('s2', 'r2'));
      const impact = await h.disable({ kind: 'kek', version: 1 });
      expect(impact).toMatchObject({ keks: 1, deks: 1, segments: ['s1'] });
      expect(await codeOf(h.decryptValue(a, ctx('s1', 'r1')))).toBe('KEY_DISABLED');
      expect(await h.decryptValue(b, ctx('s2', 'r2'))).toBe('canary-b');
      await h.enable({ kind: 'kek', version: 1 });
      expect(await h.decryptValue(a, ctx('s1', 'r1'))).toBe('canary-a');
    });

    it('CMK rotation re-wraps every KEK; old values still decrypt; the old version retires', async () => {
      const a = await h.encryptValue('canary-a', ctx('s1', 'r1'));
      await h.rotateKek();
      const rotation = await h.rotateCmk();
      expect(rotation).toMatchObject({ version: 2, rewrapped: 2, resumed: false });
      expect(await codeOf(h.retireCmk({ version: 2 }))).toBe('KEY_IN_USE');
      await h.retireCmk({ version: 1 });
      h.clearCache();
      expect(await h.decryptValue(a, ctx('s1', 'r1'))).toBe('canary-a');
      const status = await h.status();
      expect(status.keyrings[0]!.cmks.map((c) => c.state)).toEqual(['retired', 'primary']);
      expect(status.keyrings[0]!.keks.every((k) => k.cmkVersion === 2)).toBe(true);
    });

    it('resumes an interrupted CMK rotation instead of starting another', async () => {
      const a = await h.encryptValue('canary-a', ctx('s1', 'r1'));
      await h.rotateKek();
      await h.rotateKek();
      let rewraps = 0;
      const flaky = new Proxy(stack.rootKey, {
        get(target, property, receiver) {
          if (property === 'rewrapKek') {
            return async (...args: Parameters<RootKey['rewrapKek']>) => {
              if (++rewraps === 2) throw new KeystrataError('HSM_UNAVAILABLE', 'simulated outage');
              return target.rewrapKek(...args);
            };
          }
          const value = Reflect.get(target, property, receiver);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
      const interrupted = await KeyHierarchy.create({ rootKey: flaky, keyStore: stack.keyStore });
      expect(await codeOf(interrupted.rotateCmk())).toBe('HSM_UNAVAILABLE');
      const resumed = await h.rotateCmk();
      expect(resumed).toMatchObject({ version: 2, resumed: true, rewrapped: 2 });
      expect((await h.status()).keyrings[0]!.cmks.map((c) => c.version)).toEqual([1, 2]);
      h.clearCache();
      expect(await h.decryptValue(a, ctx('s1', 'r1'))).toBe('canary-a');
    });

    it('KEK rotation is lazy; rewrap moves old DEKs without touching data', async () => {
      const a = await h.encryptValue('canary-a', ctx('s1', 'r1'));
      await h.rotateKek();
      const b = await h.encryptValue('canary-b', ctx('s2', 'r2'));
      expect(envelopeDekId(a)).not.toBe(envelopeDekId(b));
      const result = await h.rewrapDeks({ batchSize: 1 });
      expect(result).toMatchObject({ kekVersion: 2, rewrapped: 1, failed: 0 });
      await h.disable({ kind: 'kek', version: 1 });
      h.clearCache();
      expect(await h.decryptValue(a, ctx('s1', 'r1'))).toBe('canary-a');
      expect(await h.decryptValue(b, ctx('s2', 'r2'))).toBe('canary-b');
    });

    it('DEK rotation re-encrypts a segment in batches and resumes after a crash', async () => {
      const rows = new Map<string, { segment: string; ssn: string }>();
      for (let i = 0; i < 25; i++) {
        const id = `r${String(i).padStart(3, '0')}`;
        rows.set(id, { segment: 's1', ssn: await h.encryptValue(`canary-${i}`, ctx('s1', id)) });
      }
      const other = await h.encryptValue('canary-other', ctx('s2', 'x'));
      const before = [...rows.values()].map((r) => r.ssn);
      let crashAfter = 2;
      const hook: ReencryptionHook = {
        async scan({ segment, cursor, limit }) {
          const ids = [...rows.keys()]
            .filter((id) => rows.get(id)!.segment === segment && (cursor === null || id > cursor))
            .sort()
            .slice(0, limit);
          const records = ids.map((id) => ({ id, fields: [{ field: 'ssn', ciphertext: rows.get(id)!.ssn, context: ctx(segment, id) }] }));
          return { records, cursor: ids.length < limit ? null : ids.at(-1)! };
        },
        async write(updates) {
          if (crashAfter-- === 0) throw new Error('simulated crash');
          for (const u of updates) for (const f of u.fields) if (rows.get(u.id)!.ssn === f.previous) rows.get(u.id)!.ssn = f.next;
          return updates.length;
        },
        async count() {
          return rows.size;
        },
      };
      const progress: number[] = [];
      await expect(h.rotateDek({ segment: 's1', hook, batchSize: 10, onProgress: (p) => progress.push(p.done) })).rejects.toThrow('simulated crash');
      const result = await h.rotateDek({ segment: 's1', hook, batchSize: 10, oldKeys: 'destroy', onProgress: (p) => progress.push(p.done) });
      expect(result).toMatchObject({ resumed: true, version: 2, reencrypted: 25 });
      expect(progress).toEqual([10, 20, 25]);
      for (const [id, row] of rows) {
        expect(envelopeDekId(row.ssn)).toBe(result.dekId);
        expect(await h.decryptValue(row.ssn, ctx('s1', id))).toMatch(/^canary-\d+$/);
      }
      expect(await codeOf(h.decryptValue(before[0], ctx('s1', 'r000')))).toBe('KEY_DESTROYED');
      expect(await h.decryptValue(other, ctx('s2', 'x'))).toBe('canary-other');
    });

    it('guards CMK revocation with a dry run and a typed-out confirmation', async () => {
      const a = await h.encryptValue('canary-a', ctx('s1', 'r1'));
      const dry = await h.disable({ kind: 'cmk' }, { dryRun: true });
      expect(dry).toMatchObject({ dryRun: true, keks: 1, deks: 1, segments: ['s1'] });
      expect(await h.decryptValue(a, ctx('s1', 'r1'))).toBe('canary-a');
      expect(await codeOf(h.disable({ kind: 'cmk' }))).toBe('CONFIRMATION_REQUIRED');
      expect(await codeOf(h.disable({ kind: 'cmk' }, { confirm: 'wrong' }))).toBe('CONFIRMATION_REQUIRED');
      await h.disable({ kind: 'cmk' }, { confirm: 'default' });
      expect(await codeOf(h.decryptValue(a, ctx('s1', 'r1')))).toBe('KEY_DISABLED');
      await h.enable({ kind: 'cmk' });
      expect(await h.decryptValue(a, ctx('s1', 'r1'))).toBe('canary-a');
    });

    it('keeps a verifiable audit trail with no plaintext; an edited row is detected', async () => {
      await h.encryptValue('canary-audit', ctx('s1', 'r1'));
      await h.rotateKek();
      await h.disable({ kind: 'segment', segment: 's1' });
      const verification = await h.verifyAudit();
      expect(verification.records).toBeGreaterThanOrEqual(5);
      const events = (await h.listAudit()).map((r) => r.event);
      expect(events).toEqual(expect.arrayContaining(['generate', 'rotate', 'disable']));
      expect(JSON.stringify(await h.listAudit())).not.toContain('canary');
      await stack.editAuditRow(2);
      const broken = await h.verifyAudit().then(
        () => undefined,
        (e) => e,
      );
      expect(broken).toMatchObject({ code: 'AUDIT_CHAIN_BROKEN', details: { seq: 2 } });
    });

    it('backs up wrapped keys and restores them into an empty store; a forged backup is refused', async () => {
      const a = await h.encryptValue('canary-a', ctx('s1', 'r1'));
      const backup = await h.exportBackup();
      expect(backup.payload).not.toContain('canary');
      const other = await KeyHierarchy.create({ rootKey: stack.rootKey, keyStore: await stack.freshKeyStore() });
      const forged = { ...backup, payload: backup.payload.replace('"primary"', '"enabled"') };
      expect(await codeOf(other.importBackup(forged))).toBe('BACKUP_INVALID');
      const restored = await other.importBackup(JSON.parse(JSON.stringify(backup)));
      expect(restored).toMatchObject({ cmks: 1, keks: 1, deks: 1, missingInHsm: [] });
      expect(await other.decryptValue(a, ctx('s1', 'r1'))).toBe('canary-a');
      await other.verifyAudit();
    });

    it('derives deterministic per-field blind indexes', async () => {
      const one = await h.blindIndex('ada@example.com', { model: 'Patient', field: 'email' });
      expect(one).toMatch(/^bi1\.[A-Za-z0-9_-]{43}$/);
      expect(await h.blindIndex('ada@example.com', { model: 'Patient', field: 'email' })).toBe(one);
      expect(await h.blindIndex('ada@example.com', { model: 'Patient', field: 'backupEmail' })).not.toBe(one);
      expect(await h.blindIndex('bob@example.com', { model: 'Patient', field: 'email' })).not.toBe(one);
      await h.disable({ kind: 'cmk' }, { confirm: 'default' });
      expect(await codeOf(h.blindIndex('ada@example.com', { model: 'Patient', field: 'email' }))).toBe('KEY_DISABLED');
      await h.enable({ kind: 'cmk' });
      expect(await h.blindIndex('ada@example.com', { model: 'Patient', field: 'email' })).toBe(one);
    });

    it('decrypts 10,000 values across 100 segments with one key-store query and one HSM call cold, none warm', async () => {
      const items = Array.from({ length: 10_000 }, (_, i) => ({ value: `v${i}`, context: ctx(`seg-${i % 100}`, `r${i}`) }));
      const stored = await h.encryptValues(items);
      const reads = stored.map((ciphertext, i) => ({ ciphertext, context: items[i]!.context }));
      h.clearCache();
      const cold0 = h.stats();
      expect(await h.decryptValues(reads)).toEqual(items.map((i) => i.value));
      const cold1 = h.stats();
      // Plus at most one look at the revocation sequence when cache.revocationCheckMs (1 s) has passed since the last (issue 15 §1).
      const checks = (a: HierarchyStats, b: HierarchyStats): number => (b.revocations?.checks ?? 0) - (a.revocations?.checks ?? 0);
      expect(checks(cold0, cold1)).toBeLessThanOrEqual(1);
      expect(cold1.keyStoreQueries - cold0.keyStoreQueries - checks(cold0, cold1)).toBe(1);
      expect(cold1.hsmCalls - cold0.hsmCalls).toBe(1);
      await h.decryptValues(reads);
      const warm = h.stats();
      expect(checks(cold1, warm)).toBeLessThanOrEqual(1);
      expect(warm.keyStoreQueries - cold1.keyStoreQueries - checks(cold1, warm)).toBe(0);
      expect(warm.hsmCalls - cold1.hsmCalls).toBe(0);
    });

    it('reports each unreadable value separately when settled', async () => {
      const a = await h.encryptValue('canary-a', ctx('s1', 'r1'));
      const results = await h.decryptValuesSettled([
        { ciphertext: a, context: ctx('s1', 'r1') },
        { ciphertext: 'plain', context: ctx('s1', 'r1') },
        { ciphertext: a, context: ctx('s1', 'r9') },
      ]);
      expect(results.map((r) => (r.ok ? r.value : r.error.code))).toEqual(['canary-a', 'CIPHERTEXT_MALFORMED', 'CIPHERTEXT_TAMPERED']);
    });
  });
}
