import { describe, expect, it } from 'vitest';
import { KeyHierarchy } from '../hierarchy/key-hierarchy.js';
import { MemoryKeyStore } from '../key-store/memory-key-store.js';
import { SoftwareRootKey } from '../root-key/software-root-key.js';
import { RecordEncryptor } from './record-encryptor.js';
import { UnreadableValue } from './unreadable-value.js';
import { resolveSegment } from './segment-policy.js';

async function setup(onUnreadable: 'throw' | 'placeholder' = 'throw') {
  const hierarchy = await KeyHierarchy.create({ rootKey: new SoftwareRootKey(), keyStore: new MemoryKeyStore() });
  await hierarchy.provision();
  const records = new RecordEncryptor({
    hierarchy,
    onUnreadable,
    segment: { by: 'tenant', field: 'tenantId' },
    models: { Patient: { fields: [{ field: 'ssn' }, { field: 'email', index: 'emailIndex' }] } },
  });
  return { hierarchy, records };
}

describe('RecordEncryptor', () => {
  it('encrypts marked fields in place, fills blind indexes, and decrypts back', async () => {
    const { records } = await setup();
    const row: Record<string, unknown> = { id: 'p1', tenantId: 'a', ssn: 'CANARY-1', email: 'x@y.z', name: 'public', note: null };
    await records.encrypt('Patient', [row]);
    expect(JSON.stringify(row)).not.toContain('CANARY');
    expect(row.emailIndex).toBe(await records.indexFor('Patient', 'email', 'x@y.z'));
    expect(row.note).toBeNull();
    await records.decrypt('Patient', [row]);
    expect(row).toMatchObject({ ssn: 'CANARY-1', email: 'x@y.z', name: 'public' });
  });

  it('fails a write without its segment field and changes nothing', async () => {
    const { records } = await setup();
    const row = { id: 'p1', ssn: 'CANARY' };
    await expect(records.encrypt('Patient', [row])).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    expect(row.ssn).toBe('CANARY');
    const partial = { ssn: 'CANARY' };
    await records.encrypt('Patient', [partial], () => ({ tenantId: 'a', id: 'p1' }));
    expect(partial.ssn).toMatch(/^ks1\./);
  });

  it('refuses to encrypt an envelope again (no double encryption)', async () => {
    const { records } = await setup();
    const row = { id: 'p1', tenantId: 'a', ssn: 'CANARY' };
    await records.encrypt('Patient', [row]);
    await expect(records.encrypt('Patient', [{ ...row }])).rejects.toMatchObject({ code: 'PLAINTEXT_REJECTED' });
  });

  it('never writes an UnreadableValue placeholder', async () => {
    const { records } = await setup();
    await expect(records.encrypt('Patient', [{ id: 'p1', tenantId: 'a', ssn: new UnreadableValue('KEY_DISABLED') }])).rejects.toMatchObject({ code: 'PLAINTEXT_REJECTED' });
  });

  it('prepares segments without encrypting anything', async () => {
    const { hierarchy } = await setup();
    const before = (await hierarchy.status()).keyrings[0]!.deks.primary ?? 0;
    await hierarchy.prepareSegments(['s1', 's2', 's1']);
    expect((await hierarchy.status()).keyrings[0]!.deks.primary).toBe(before + 2);
    await expect(hierarchy.prepareSegments(['__keystrata/x'])).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('throws on an unreadable value, or puts a placeholder when asked to', async () => {
    const strict = await setup();
    await expect(strict.records.decrypt('Patient', [{ id: 'p1', tenantId: 'a', ssn: 'plaintext' }])).rejects.toMatchObject({ code: 'CIPHERTEXT_MALFORMED' });
    const lenient = await setup('placeholder');
    const row: Record<string, unknown> = { id: 'p1', tenantId: 'a', ssn: 'plaintext' };
    await lenient.records.decrypt('Patient', [row]);
    expect(UnreadableValue.isInstance(row.ssn) && row.ssn.code).toBe('CIPHERTEXT_MALFORMED');
    expect(JSON.stringify(row)).toContain('"unreadable":"CIPHERTEXT_MALFORMED"');
  });

  it('throwing on one unreadable value leaves every row of the batch as it was', async () => {
    const { records } = await setup();
    const good: Record<string, unknown> = { id: 'p1', tenantId: 'a', ssn: 'CANARY-1', email: 'x@y.z' };
    await records.encrypt('Patient', [good]);
    const sealed = { ...good };
    const bad = { id: 'p2', tenantId: 'a', ssn: 'plaintext' };
    await expect(records.decrypt('Patient', [good, bad])).rejects.toMatchObject({ code: 'CIPHERTEXT_MALFORMED' });
    expect(good).toEqual(sealed);
    expect(bad.ssn).toBe('plaintext');
  });

  it('encrypts many rows and fields in one batch, each value bound to its own row', async () => {
    const { records } = await setup();
    const rows: Array<Record<string, unknown>> = Array.from({ length: 50 }, (_, i) => ({ id: `p${i}`, tenantId: `t${i % 3}`, ssn: `ssn-${i}`, email: i % 2 === 0 ? `e${i}@x` : null }));
    await records.encrypt('Patient', rows);
    expect(rows.filter((r) => typeof r.emailIndex === 'string')).toHaveLength(25);
    const swapped = rows.map((r) => ({ ...r }));
    [swapped[0]!.ssn, swapped[1]!.ssn] = [swapped[1]!.ssn, swapped[0]!.ssn];
    await expect(records.decrypt('Patient', swapped)).rejects.toMatchObject({ code: 'CIPHERTEXT_TAMPERED' });
    await records.decrypt('Patient', rows);
    expect(rows.map((r) => [r.ssn, r.email])).toEqual(rows.map((_, i) => [`ssn-${i}`, i % 2 === 0 ? `e${i}@x` : null]));
  });

  it("sealRecords encrypts values kept apart from the record, binding the given id and the record's segment", async () => {
    const { records } = await setup();
    const [sealed, empty] = await records.sealRecords('Patient', [
      { values: { ssn: 'CANARY-2', email: 'a@b.c', name: 'ignored' }, id: 'p9', record: { tenantId: 'b' } },
      { values: { ssn: null }, id: undefined, record: {} },
    ]);
    expect(Object.keys(sealed!).sort()).toEqual(['email', 'emailIndex', 'ssn']);
    expect(empty).toEqual({});
    const row = { id: 'p9', tenantId: 'b', ...sealed };
    await records.decrypt('Patient', [row]);
    expect(row).toMatchObject({ ssn: 'CANARY-2', email: 'a@b.c' });
    const moved = { id: 'p9', tenantId: 'a', ...sealed };
    await expect(records.decrypt('Patient', [moved])).rejects.toMatchObject({ code: 'CIPHERTEXT_TAMPERED' });
    await expect(records.sealRecords('Patient', [{ values: { ssn: sealed!.ssn }, id: 'p9', record: { tenantId: 'b' } }])).rejects.toMatchObject({ code: 'PLAINTEXT_REJECTED' });
  });

  it('decryptGroups decrypts the rows of several models in one batch', async () => {
    const events: number[] = [];
    const monitored = await KeyHierarchy.create({
      rootKey: new SoftwareRootKey(),
      keyStore: new MemoryKeyStore(),
      monitor: (e) => {
        if (e.operation === 'decrypt') events.push(e.count);
      },
    });
    await monitored.provision();
    const records = new RecordEncryptor({ hierarchy: monitored, segment: { by: 'fixed', segment: 'all' }, models: { A: { fields: [{ field: 'x' }] }, B: { fields: [{ field: 'y' }] } } });
    const a = [
      { id: '1', x: 'ax' },
      { id: '2', x: 'ax2' },
    ];
    const b = [{ id: '3', y: 'by' }];
    await records.encrypt('A', a);
    await records.encrypt('B', b);
    await records.decryptGroups([
      { model: 'A', rows: a },
      { model: 'B', rows: b },
      { model: 'Unknown', rows: [{ x: 'plain' }] },
    ]);
    expect([a, b]).toEqual([
      [
        { id: '1', x: 'ax' },
        { id: '2', x: 'ax2' },
      ],
      [{ id: '3', y: 'by' }],
    ]);
    expect(events).toEqual([3]);
  });

  it('resolves segments per tenant, per record, fixed or by function', () => {
    expect(resolveSegment({ by: 'tenant', field: 't' }, 'M', '1', { t: 'x' })).toBe('t:x');
    expect(resolveSegment({ by: 'record' }, 'M', '1', {})).toBe('M:1');
    expect(resolveSegment({ by: 'fixed', segment: 'all' }, 'M', undefined, {})).toBe('all');
    expect(resolveSegment(({ record }) => `org:${String(record.org)}`, 'M', undefined, { org: 7 })).toBe('org:7');
    expect(() => resolveSegment({ by: 'record' }, 'M', undefined, {})).toThrow(/record id is not known/);
  });

  it('encrypts under a keyring per record (a CMK per tenant) with blind indexes shared across keyrings', async () => {
    const { hierarchy } = await setup();
    await hierarchy.provision('north');
    await hierarchy.provision('south');
    const records = new RecordEncryptor({
      hierarchy,
      segment: { by: 'tenant', field: 'tenantId' },
      keyring: ({ record }) => String(record.tenantId),
      models: { Patient: { fields: [{ field: 'email', index: 'emailIndex' }] } },
    });
    const rows: Array<Record<string, unknown>> = [
      { id: '1', tenantId: 'north', email: 'a@x' },
      { id: '2', tenantId: 'south', email: 'a@x' },
    ];
    await records.encrypt('Patient', rows);
    expect(rows[0]!.emailIndex).toBe(rows[1]!.emailIndex);
    const status = await hierarchy.status();
    expect(
      status.keyrings
        .filter((k) => k.deks.primary)
        .map((k) => k.keyring)
        .sort(),
    ).toEqual(['north', 'south']);
    // The shared blind-index key lives in the default keyring, shown apart from its DEKs (issue 13).
    expect(status.keyrings.find((k) => k.keyring === 'default')?.blindIndexKeys).toEqual({ primary: 1 });
    await hierarchy.disable({ kind: 'cmk', keyring: 'north' }, { confirm: 'north' });
    const results = await hierarchy.decryptValuesSettled(
      rows.map((r) => ({ ciphertext: r.email, context: { model: 'Patient', field: 'email', recordId: String(r.id), keyring: String(r.tenantId) } })),
    );
    expect(results.map((r) => (r.ok ? r.value : r.error.code))).toEqual(['KEY_DISABLED', 'a@x']);
  });

  it("issue 11 §2: a row read without its tenant column is not decrypted: SEGMENT_FIELD_MISSING naming the column (a value moved into another tenant's row never decrypts)", async () => {
    const { records } = await setup();
    const victim: Record<string, unknown> = { id: 'p1', tenantId: 'a', ssn: 'CANARY-A' };
    await records.encrypt('Patient', [victim]);
    // The attacker copies tenant a's value into tenant b's row; the application selects rows without tenantId.
    const moved: Record<string, unknown> = { id: 'p1', ssn: victim.ssn };
    const error = await records.decrypt('Patient', [moved]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'SEGMENT_FIELD_MISSING' });
    expect(String((error as Error).message)).toContain('"tenantId"');
    expect(moved.ssn).toBe(victim.ssn);
    const { records: lenient } = await setup('placeholder');
    const row: Record<string, unknown> = { id: 'p2', tenantId: 'a', ssn: 'CANARY-B' };
    await lenient.encrypt('Patient', [row]);
    const rows: Array<Record<string, unknown>> = [{ id: 'p2', ssn: row.ssn }, { ...row }];
    await lenient.decrypt('Patient', rows);
    expect(rows[0]!.ssn).toBeInstanceOf(UnreadableValue);
    expect((rows[0]!.ssn as UnreadableValue).code).toBe('SEGMENT_FIELD_MISSING');
    expect(rows[1]!.ssn).toBe('CANARY-B');
  });

  it('issue 11 §2: records written under a keyring per record are read back under that keyring, not another one', async () => {
    const { hierarchy } = await setup();
    await hierarchy.provision('north');
    const records = new RecordEncryptor({
      hierarchy,
      segment: { by: 'tenant', field: 'tenantId' },
      keyring: ({ record }) => String(record.tenantId),
      models: { Patient: { fields: [{ field: 'email' }] } },
    });
    const row: Record<string, unknown> = { id: '1', tenantId: 'north', email: 'a@x' };
    await records.encrypt('Patient', [row]);
    const copy = { ...row };
    await records.decrypt('Patient', [copy]);
    expect(copy.email).toBe('a@x');
    const plain = new RecordEncryptor({ hierarchy, segment: { by: 'tenant', field: 'tenantId' }, models: { Patient: { fields: [{ field: 'email' }] } } });
    await expect(plain.decrypt('Patient', [{ ...row }])).rejects.toMatchObject({ code: 'CIPHERTEXT_TAMPERED' });
  });

  it('validates its options once', async () => {
    const { hierarchy } = await setup();
    expect(() => new RecordEncryptor({ hierarchy, models: {}, segment: { by: 'nope' } as never })).toThrow(/segment must be/);
    expect(() => new RecordEncryptor({ hierarchy, models: { M: { fields: [{}] } } as never, segment: { by: 'record' } })).toThrow(/fields must list/);
  });
});
