import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KeyHierarchy, KeystrataError, type FieldContext, type ReencryptionHook } from '../src/index.js';
import { envelopeDekId } from '../src/adapter.js';
import type { Stack } from './hierarchy-behaviour.js';

const codeOf = async (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'none',
    (e) => (KeystrataError.isInstance(e) ? e.code : `untyped: ${String(e)}`),
  );
const ctx = (segment: string, recordId: string): FieldContext => ({ model: 'Patient', field: 'ssn', recordId, segment });

/** A table of one encrypted field in memory, with a compare-and-swap re-encryption hook. */
function memoryTable(segment: string) {
  const rows = new Map<string, string>();
  const hook: ReencryptionHook = {
    async scan({ cursor, limit }) {
      const ids = [...rows.keys()].sort().filter((id) => cursor === null || id > cursor);
      const page = ids.slice(0, limit);
      return { records: page.map((id) => ({ id, fields: [{ field: 'ssn', ciphertext: rows.get(id)!, context: ctx(segment, id) }] })), cursor: page.length < limit ? null : page.at(-1)! };
    },
    async write(updates) {
      let written = 0;
      for (const u of updates) {
        const f = u.fields[0]!;
        if (rows.get(u.id) === f.previous) {
          rows.set(u.id, f.next);
          written++;
        }
      }
      return written;
    },
  };
  return { rows, hook };
}

/** Audit records of automatic rotations, with their details parsed. */
async function automaticRotations(h: KeyHierarchy): Promise<Array<{ subject: string; details: Record<string, unknown> }>> {
  const records = await h.listAudit();
  return records
    .filter((r) => r.event === 'rotate')
    .map((r) => ({ subject: r.subject, details: JSON.parse(r.details) as Record<string, unknown> }))
    .filter((r) => r.details.automatic === true);
}

/** The rotation-policy behaviour every key store must show (issue 15 §3). */
export function describePolicies(name: string, makeStack: () => Promise<Stack>): void {
  describe(`rotation policies on ${name}`, () => {
    let stack: Stack;
    let h: KeyHierarchy;
    const open = (cache = {}) => KeyHierarchy.create({ rootKey: stack.rootKey, keyStore: stack.keyStore, cmkLabelPrefix: prefix, cache });
    let prefix: string;
    beforeEach(async () => {
      stack = await makeStack();
      prefix = `policy-${Math.random().toString(36).slice(2)}`;
      h = await open();
      await h.provision();
    });
    afterEach(async () => {
      h.clearCache();
      await stack.close();
    });

    it('issue 15 §3: usage limit reached → the next write uses a new DEK, old values still decrypt, audited with the reason', async () => {
      await h.policies.set({ dekUsageLimit: 32 });
      const written: Array<{ stored: string; id: string }> = [];
      for (let i = 0; i < 40; i++) written.push({ stored: await h.encryptValue(`v${i}`, ctx('tenant-a', `r${i}`)), id: `r${i}` });
      const deks = written.map((w) => envelopeDekId(w.stored));
      expect(new Set(deks.slice(0, 32)).size).toBe(1);
      expect(deks[32]).not.toBe(deks[0]);
      expect(new Set(deks.slice(32)).size).toBe(1);
      for (const [i, w] of written.entries()) expect(await h.decryptValue(w.stored, ctx('tenant-a', w.id))).toBe(`v${i}`);
      const rotations = await automaticRotations(h);
      expect(rotations).toEqual([{ subject: 'segment:default:tenant-a', details: expect.objectContaining({ reason: 'usage-limit', previous: deks[0], dekId: deks[32], version: 2 }) }]);
      const state = new Map((await stack.keyStore.listDeks({ keyring: 'default', segment: 'tenant-a', limit: 10 })).map((d) => [d.id, d.state]));
      expect(state.get(deks[0]!)).toBe('enabled');
      expect(state.get(deks[32]!)).toBe('primary');
      expect((await h.verifyAudit()).records).toBeGreaterThan(5); // the chain verifies (verify throws otherwise)
    });

    it('issue 15 §3: a batch counts every value: one batch past the remaining uses moves the whole batch to a fresh DEK', async () => {
      await h.policies.set({ dekUsageLimit: 100 });
      const first = await h.encryptValues(Array.from({ length: 60 }, (_, i) => ({ value: i, context: ctx('tenant-b', `a${i}`) })));
      const second = await h.encryptValues(Array.from({ length: 60 }, (_, i) => ({ value: i, context: ctx('tenant-b', `b${i}`) })));
      expect(new Set(first.map(envelopeDekId)).size).toBe(1);
      expect(new Set(second.map(envelopeDekId)).size).toBe(1);
      expect(envelopeDekId(second[0]!)).not.toBe(envelopeDekId(first[0]!));
      const reserved = await stack.keyStore.loadDekUses([envelopeDekId(first[0]!)]);
      expect(reserved.get(envelopeDekId(first[0]!))).toBeGreaterThanOrEqual(60);
    });

    it('issue 15 §3: prepareSegments reserves the DEK uses ahead, so the write that follows makes no key-store write (SQLite transactions)', async () => {
      const writer = await open({ writeRecheckMs: 60_000 });
      await writer.prepareSegments(['tenant-p']);
      const before = writer.stats().keyStoreQueries;
      await writer.encryptValues(Array.from({ length: 20 }, (_, i) => ({ value: i, context: ctx('tenant-p', `r${i}`) })));
      expect(writer.stats().keyStoreQueries - before).toBe(0);
      expect(writer.policies.usageStats).toMatchObject({ used: 20, reservations: 1 });
    });

    it('issue 15 §3: a batch larger than the usage limit is refused (CONFIG_INVALID), nothing sealed', async () => {
      await h.policies.set({ dekUsageLimit: 10 });
      expect(await codeOf(h.encryptValues(Array.from({ length: 11 }, (_, i) => ({ value: i, context: ctx('tenant-c', `r${i}`) }))))).toBe('CONFIG_INVALID');
    });

    it('issue 15 §3: KEK validity: after the period the next write makes a new KEK version primary (as rotateKek), audited with the reason', async () => {
      await h.policies.set({ kekValiditySeconds: 1 });
      const before = await h.encryptValue('before', ctx('tenant-d', 'r1'));
      await sleep(1100);
      const writer = await open({ maxAgeMs: 1 });
      const after = await writer.encryptValue('after', ctx('tenant-e', 'r1'));
      const keks = await stack.keyStore.listKeks('default');
      expect(keks.map((k) => [k.version, k.state])).toEqual([
        [1, 'enabled'],
        [2, 'primary'],
      ]);
      const [chain] = await stack.keyStore.loadDekChains([envelopeDekId(after)]);
      expect(chain!.dek.kekVersion).toBe(2);
      expect(await writer.decryptValue(before, ctx('tenant-d', 'r1'))).toBe('before');
      const rotations = await automaticRotations(h);
      expect(rotations).toEqual([{ subject: 'kek:default', details: { version: 2, reason: 'kek-validity', automatic: true } }]);
    });

    it('issue 15 §3: DEK validity: the next write uses a new DEK and queues a re-encryption job that rotateDek resumes', async () => {
      await h.policies.set({ dekValiditySeconds: 1 });
      const table = memoryTable('tenant-f');
      for (let i = 0; i < 5; i++) table.rows.set(`r${i}`, await h.encryptValue(`v${i}`, ctx('tenant-f', `r${i}`)));
      const oldDek = envelopeDekId(table.rows.get('r0')!);
      await sleep(1100);
      const writer = await open({ maxAgeMs: 1 });
      table.rows.set('r5', await writer.encryptValue('v5', ctx('tenant-f', 'r5')));
      const newDek = envelopeDekId(table.rows.get('r5')!);
      expect(newDek).not.toBe(oldDek);
      const job = await stack.keyStore.getJob('dek-rotation:default:tenant-f');
      expect(job?.state).toBe('running');
      expect(JSON.parse(job!.data)).toMatchObject({ dekId: newDek, reason: 'dek-validity' });
      expect((await writer.status()).keyrings.find((k) => k.keyring === 'default')!.policy!.pendingReencryptions).toEqual(['tenant-f']);
      const result = await writer.rotateDek({ segment: 'tenant-f', hook: table.hook });
      expect(result).toMatchObject({ resumed: true, dekId: newDek, reencrypted: 5 });
      for (const [id, stored] of table.rows) {
        expect(envelopeDekId(stored)).toBe(newDek);
        expect(await writer.decryptValue(stored, ctx('tenant-f', id))).toBe(`v${id.slice(1)}`);
      }
      expect((await stack.keyStore.getJob('dek-rotation:default:tenant-f'))?.state).toBe('done');
      expect((await automaticRotations(h)).map((r) => r.details.reason)).toEqual(['dek-validity']);
    });

    it('issue 15 §3: enforce performs each due rotation once; a second enforce finds nothing due', async () => {
      await h.encryptValues([
        { value: 1, context: ctx('s1', 'r1') },
        { value: 2, context: ctx('s2', 'r1') },
      ]);
      await h.policies.set({ kekValiditySeconds: 1, dekValiditySeconds: 1 });
      await sleep(1100);
      const first = await h.policies.enforce();
      expect(first.kekRotated).toBe(2);
      expect(first.deksRotated.map((d) => [d.segment, d.reason]).sort()).toEqual([
        ['s1', 'dek-validity'],
        ['s2', 'dek-validity'],
      ]);
      expect([...first.pendingReencryptions].sort()).toEqual(['s1', 's2']);
      const second = await h.policies.enforce();
      expect(second).toMatchObject({ kekRotated: null, deksRotated: [] });
      const [chain] = await stack.keyStore.loadLatestDekChains('default', ['s1']);
      expect(chain!.dek.kekVersion).toBe(2);
    });

    it('issue 15 §3: status shows the policy, when the next rotations are due and the usage counts', async () => {
      await h.policies.set({ kekValiditySeconds: 86_400, dekValiditySeconds: 3600, dekUsageLimit: 1600 });
      await h.encryptValues(Array.from({ length: 30 }, (_, i) => ({ value: i, context: ctx('tenant-g', `r${i}`) })));
      const status = (await h.status()).keyrings.find((k) => k.keyring === 'default')!.policy!;
      expect(status.policy).toMatchObject({ kekValiditySeconds: 86_400, dekValiditySeconds: 3600, dekUsageLimit: 1600, usageBlock: 100, usageLimitIsDefault: false });
      expect(Date.parse(status.nextKekRotation!)).toBeGreaterThan(Date.now() + 86_000_000);
      expect(Date.parse(status.nextDekRotation!)).toBeGreaterThan(Date.now() + 3_500_000);
      expect(status.mostUsed).toMatchObject({ segment: 'tenant-g', uses: 100 });
      expect(status.deksPastValidity).toBe(0);
      expect(h.policies.usageStats).toMatchObject({ used: 30, reserved: 100, reservations: 1 });
    });

    it('issue 15 §3: policy set validates its options and audits the change; null removes a rule', async () => {
      expect(await codeOf(h.policies.set({ dekUsageLimit: 2 ** 31 }))).toBe('CONFIG_INVALID');
      expect(await codeOf(h.policies.set({ kekValiditySeconds: 0 }))).toBe('CONFIG_INVALID');
      expect(await codeOf(h.policies.set({ dekValidity: 5 } as never))).toBe('CONFIG_INVALID');
      await h.policies.set({ dekUsageLimit: 500, kekValiditySeconds: 60 });
      const policy = await h.policies.set({ dekUsageLimit: null });
      expect(policy).toMatchObject({ dekUsageLimit: 2 ** 30, usageLimitIsDefault: true, kekValiditySeconds: 60 });
      const audited = (await h.listAudit()).filter((r) => r.event === 'policy').map((r) => JSON.parse(r.details));
      expect(audited.at(-1)).toEqual({ kekValiditySeconds: 60, dekValiditySeconds: 'none', dekUsageLimit: 'none' });
    });
  });
}
