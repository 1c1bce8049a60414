import { describe, expect, it } from 'vitest';
import { envelopeDekId } from '../envelope/envelope-format.js';
import type { FieldContext } from '../envelope/field-context.js';
import { KeystrataError } from '../errors/keystrata-error.js';
import { KeyHierarchy } from '../hierarchy/key-hierarchy.js';
import { MemoryKeyStore } from '../key-store/memory-key-store.js';
import type { CmkReference } from '../root-key/root-key.js';
import { SoftwareRootKey } from '../root-key/software-root-key.js';

const ctx = (segment: string, recordId = 'r1'): FieldContext => ({ model: 'Patient', field: 'ssn', recordId, segment });
const codeOf = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'none',
    (e) => (KeystrataError.isInstance(e) ? e.code : `untyped: ${String(e)}`),
  );

/** A software root whose `destroyCmk` fails while `failDestroy` is set: a process killed mid-epoch. */
class InterruptibleRoot extends SoftwareRootKey {
  failDestroy = false;
  failCreate = false;
  override async createCmk(label: string): Promise<CmkReference> {
    if (this.failCreate) throw new Error('killed');
    return super.createCmk(label);
  }
  override async destroyCmk(cmk: CmkReference): Promise<void> {
    if (this.failDestroy) throw new Error('killed');
    return super.destroyCmk(cmk);
  }
}

async function setup() {
  const rootKey = new InterruptibleRoot();
  const keyStore = new MemoryKeyStore();
  const h = await KeyHierarchy.create({ rootKey, keyStore });
  await h.provision();
  return { rootKey, keyStore, h };
}

describe('shred epochs (unit)', () => {
  it('issue 11 §1: a durable destroy ends at a CMK version destroyed in the root; the rest still decrypts', async () => {
    const { rootKey, keyStore, h } = await setup();
    const gone = await h.encryptValue('canary-gone', ctx('s1'));
    const kept = await h.encryptValue('canary-kept', ctx('s2'));
    const [oldCmk] = await keyStore.listCmks('default');
    const oldKek = (await keyStore.listKeks('default'))[0]!;
    const impact = await h.destroy({ kind: 'segment', segment: 's1' });
    expect(impact.durableAt).toEqual(expect.any(String));
    expect(await rootKey.hasCmk({ label: oldCmk!.hsmLabel, id: oldCmk!.hsmId })).toBe(false);
    expect((await keyStore.listKeks('default')).find((k) => k.version === oldKek.version)).toMatchObject({ state: 'destroyed', wrapped: '' });
    const cmks = await keyStore.listCmks('default');
    expect(cmks.map((c) => c.state)).toEqual(['retired', 'primary']);
    // The old KEK blob cannot be opened by the root any more, under any CMK version it holds.
    for (const cmk of cmks) expect(await codeOf(rootKey.unwrapKek({ label: cmk.hsmLabel, id: cmk.hsmId }, Buffer.from(oldKek.wrapped, 'base64')))).not.toBe('none');
    expect(await codeOf(h.decryptValue(gone, ctx('s1')))).toBe('KEY_DESTROYED');
    h.clearCache();
    expect(await h.decryptValue(kept, ctx('s2'))).toBe('canary-kept');
    const status = (await h.status()).keyrings[0]!.shreds;
    expect(status).toMatchObject({ pending: 0, durable: expect.any(Number), pendingSince: null });
    expect(status.keys.find((k) => k.kind === 'dek' && k.id === envelopeDekId(gone))).toMatchObject({ segment: 's1', durableAt: expect.any(String) });
    await h.verifyAudit();
    expect((await h.listAudit()).some((a) => a.event === 'shred')).toBe(true);
  });

  it('issue 11 §1: deferred shreds wait in status and share one epoch', async () => {
    const { keyStore, h } = await setup();
    const values = await h.encryptValues(['a', 'b', 'c', 'd'].map((s) => ({ value: `canary-${s}`, context: ctx(s) })));
    for (const segment of ['a', 'b', 'c']) {
      expect((await h.destroy({ kind: 'segment', segment }, { durable: 'deferred' })).durableAt).toBeNull();
    }
    const before = (await h.status()).keyrings[0]!.shreds;
    expect(before).toMatchObject({ pending: 3, durable: 0, pendingSince: expect.any(String) });
    expect((await keyStore.listCmks('default')).length).toBe(1);
    const [result] = await h.completeShreds();
    // 3 DEKs, plus KEK v1 and CMK v1 that the epoch destroyed.
    expect(result).toMatchObject({ keyring: 'default', ran: true, durable: 5, cmkVersion: 2, destroyedKeks: [1], retiredCmks: [1] });
    expect((await keyStore.listCmks('default')).length).toBe(2);
    expect((await h.status()).keyrings[0]!.shreds).toMatchObject({ pending: 0 });
    expect(await h.completeShreds({ keyring: 'default' })).toEqual([expect.objectContaining({ ran: false })]);
    h.clearCache();
    expect(await h.decryptValue(values[3]!, ctx('d'))).toBe('canary-d');
  });

  it('issue 11 §1: an epoch killed before the old CMK is destroyed is finished by a rerun', async () => {
    const { rootKey, keyStore, h } = await setup();
    const kept = await h.encryptValue('canary-kept', ctx('s2'));
    await h.encryptValue('canary-gone', ctx('s1'));
    rootKey.failDestroy = true;
    expect(await codeOf(h.destroy({ kind: 'segment', segment: 's1' }))).toMatch(/untyped|HSM|INTERNAL/);
    // Pending: the DEK, and KEK v1 and CMK v1 that the interrupted epoch got to.
    expect((await h.status()).keyrings[0]!.shreds).toMatchObject({ pending: 3, durable: 0, epochRunningSince: expect.any(String) });
    rootKey.failDestroy = false;
    const [result] = await h.completeShreds();
    expect(result).toMatchObject({ ran: true, resumed: true, cmkVersion: 2, durable: 3, retiredCmks: [1] });
    expect((await h.status()).keyrings[0]!.shreds.epochRunningSince).toBeNull();
    const cmks = await keyStore.listCmks('default');
    expect(cmks.filter((c) => c.state === 'primary')).toHaveLength(1);
    expect(cmks.map((c) => c.state)).toEqual(['retired', 'primary']);
    h.clearCache();
    expect(await h.decryptValue(kept, ctx('s2'))).toBe('canary-kept');
  });

  it('issue 11 §1: an epoch killed while generating its CMK (no primary CMK for a moment) is finished by a rerun', async () => {
    const { rootKey, keyStore, h } = await setup();
    const kept = await h.encryptValue('canary-kept', ctx('s2'));
    await h.encryptValue('canary-gone', ctx('s1'));
    rootKey.failCreate = true;
    expect(await codeOf(h.destroy({ kind: 'segment', segment: 's1' }))).toMatch(/untyped|HSM|INTERNAL/);
    expect((await keyStore.listCmks('default')).map((c) => c.state)).toEqual(['enabled']);
    h.clearCache();
    expect(await h.decryptValue(kept, ctx('s2'))).toBe('canary-kept');
    rootKey.failCreate = false;
    expect(await h.completeShreds()).toEqual([expect.objectContaining({ ran: true, resumed: true, cmkVersion: 2, retiredCmks: [1] })]);
    expect((await keyStore.listCmks('default')).map((c) => c.state)).toEqual(['retired', 'primary']);
    h.clearCache();
    expect(await h.decryptValue(kept, ctx('s2'))).toBe('canary-kept');
  });

  it('issue 11 §1: an epoch another process is running is refused with ROTATION_IN_PROGRESS; a dead one is taken over', async () => {
    const { keyStore, h } = await setup();
    const kept = await h.encryptValue('canary-kept', ctx('s2'));
    await h.encryptValue('canary-gone', ctx('s1'));
    await h.destroy({ kind: 'segment', segment: 's1' }, { durable: 'deferred' });
    const foreign = (updatedAt: string) =>
      keyStore.putJob({
        id: 'shred-epoch:default',
        kind: 'shred-epoch',
        state: 'running',
        cursor: null,
        processed: 0,
        data: JSON.stringify({ cutoff: new Date().toISOString(), cmkVersion: 2, owner: 'another-process' }),
        updatedAt,
      });
    await foreign(new Date().toISOString());
    expect(await codeOf(h.completeShreds())).toBe('ROTATION_IN_PROGRESS');
    expect((await keyStore.listCmks('default')).length).toBe(1);
    await foreign(new Date(Date.now() - 5 * 60_000).toISOString());
    expect(await h.completeShreds()).toEqual([expect.objectContaining({ ran: true, resumed: true, cmkVersion: 2, retiredCmks: [1] })]);
    h.clearCache();
    expect(await h.decryptValue(kept, ctx('s2'))).toBe('canary-kept');
  });

  it('issue 11 §1: an epoch refuses to destroy a disabled KEK that still wraps live DEKs', async () => {
    const { keyStore, h } = await setup();
    const under1 = await h.encryptValue('canary-1', ctx('s1'));
    await h.rotateKek();
    await h.encryptValue('canary-2', ctx('s2'));
    await h.disable({ kind: 'kek', version: 1 });
    expect(await codeOf(h.destroy({ kind: 'segment', segment: 's2' }))).toBe('KEY_DISABLED');
    expect((await keyStore.listKeks('default')).find((k) => k.version === 1)?.state).toBe('disabled');
    await h.enable({ kind: 'kek', version: 1 });
    expect(await h.completeShreds()).toEqual([expect.objectContaining({ ran: true, destroyedKeks: [1, 2], retiredCmks: [1] })]);
    h.clearCache();
    expect(await h.decryptValue(under1, ctx('s1'))).toBe('canary-1');
  });

  it('issue 11 §1: a pre-shred backup restored into an empty store or the live store never brings the DEK back', async () => {
    const { rootKey, keyStore, h } = await setup();
    const gone = await h.encryptValue('canary-gone', ctx('s1'));
    const backup = JSON.parse(JSON.stringify(await h.exportBackup()));
    await h.destroy({ kind: 'segment', segment: 's1' });
    const live = await h.importBackup(backup);
    expect(live.deks).toBe(0);
    expect(await codeOf(h.decryptValue(gone, ctx('s1')))).toBe('KEY_DESTROYED');
    const emptyStore = new MemoryKeyStore();
    const other = await KeyHierarchy.create({ rootKey, keyStore: emptyStore });
    const restored = await other.importBackup(backup);
    expect(restored.missingInHsm.length).toBe(1);
    expect((await emptyStore.listDeks({ limit: 10 })).map((d) => [d.state, d.wrapped])).toEqual([['destroyed', '']]);
    expect(await codeOf(other.decryptValue(gone, ctx('s1')))).toBe('KEY_DESTROYED');
    // A new backup carries the tombstones: restored into an empty store, the destroyed DEK stays destroyed.
    const after = JSON.parse(JSON.stringify(await h.exportBackup()));
    const third = new MemoryKeyStore();
    const restoredAfter = await (await KeyHierarchy.create({ rootKey, keyStore: third })).importBackup(after);
    expect(restoredAfter.tombstones).toBeGreaterThan(0);
    expect((await third.listTombstones()).some((t) => t.kind === 'dek' && t.id === envelopeDekId(gone))).toBe(true);
    expect(keyStore.listTombstones).toBeTypeOf('function');
  });

  it('issue 11 §1: destroying again a key destroyed before tombstones existed runs the epoch that makes it durable', async () => {
    const { keyStore, h } = await setup();
    const old = await h.encryptValue('canary-old', ctx('s1'));
    await keyStore.updateDek(envelopeDekId(old), { state: 'destroyed', wrapped: '', at: new Date().toISOString() }); // what destroy did before
    expect(await keyStore.listTombstones()).toEqual([]);
    const impact = await h.destroy({ kind: 'dek', id: envelopeDekId(old) });
    expect(impact.durableAt).toEqual(expect.any(String));
    expect((await keyStore.listCmks('default')).map((c) => c.state)).toEqual(['retired', 'primary']);
    expect((await keyStore.listTombstones()).find((t) => t.id === envelopeDekId(old))?.durableAt).toBe(impact.durableAt);
  });

  it('issue 11 §5: enable on a destroyed key is refused with KEY_DESTROYED', async () => {
    const { h } = await setup();
    const a = await h.encryptValue('canary-a', ctx('s1'));
    await h.destroy({ kind: 'dek', id: envelopeDekId(a) }, { durable: 'deferred' });
    expect(await codeOf(h.enable({ kind: 'dek', id: envelopeDekId(a) }))).toBe('KEY_DESTROYED');
    expect(await codeOf(h.enable({ kind: 'segment', segment: 's1' }))).toBe('KEY_DESTROYED');
    await h.rotateKek();
    await h.destroy({ kind: 'kek', version: 1 }, { durable: 'deferred' });
    expect(await codeOf(h.enable({ kind: 'kek', version: 1 }))).toBe('KEY_DESTROYED');
    await h.destroy({ kind: 'cmk' }, { confirm: 'default' });
    expect(await codeOf(h.enable({ kind: 'cmk' }))).toBe('KEY_DESTROYED');
    expect((await h.status()).keyrings[0]!.shreds).toMatchObject({ pending: 0 });
  });
});
