import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { KeyHierarchy, KeystrataError } from '../src/index.js';
import { RecordEncryptor } from '../src/adapter.js';
import { sqliteStack } from './stacks.js';

// Issue 11 §2 (review): with bindRecordId on (the default) a record written without its id is
// refused instead of being sealed unbound. Written as the DBA who copies a ciphertext into another
// record of the same tenant.

const codeOf = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'ok',
    (e) => (KeystrataError.isInstance(e) ? e.code : String(e)),
  );

describe('issue 11 §2 (review): RecordEncryptor with bindRecordId (default true) and a row without its id', () => {
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c().catch(() => undefined);
  });

  async function setup(bindRecordId?: boolean) {
    const stack = await sqliteStack();
    closers.push(() => stack.close());
    const h = await KeyHierarchy.create({ rootKey: stack.rootKey, keyStore: stack.keyStore, cmkLabelPrefix: `rv-${Math.random().toString(36).slice(2)}` });
    await h.provision();
    const records = new RecordEncryptor({
      hierarchy: h,
      models: { Patient: { fields: [{ field: 'ssn' }], idField: 'patientId' } },
      segment: { by: 'tenant', field: 'tenantId' },
      ...(bindRecordId === undefined ? {} : { bindRecordId }),
    });
    return { stack, records };
  }

  it('issue 11 §2 (review): a row without its id is refused (PLAINTEXT_REJECTED naming the id field), not sealed unbound for a DBA to move to another record', async () => {
    const { records } = await setup();
    const row: Record<string, unknown> = { tenantId: 'acme', ssn: 'alice-ssn' }; // id assigned by the database later (autoincrement)
    const error = await records.encrypt('Patient', [row]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(KeystrataError.isInstance(error, 'PLAINTEXT_REJECTED')).toBe(true);
    expect((error as Error).message).toContain('"patientId"');
    expect(row.ssn).toBe('alice-ssn'); // nothing changed
    expect(await codeOf(records.sealRecords('Patient', [{ values: { ssn: 'alice-ssn' }, id: undefined, record: { tenantId: 'acme' } }]))).toBe('PLAINTEXT_REJECTED');
  });

  it("Precondition: with bindRecordId on, a value is sealed only bound to its record's id.", async () => {
    const { stack, records } = await setup();
    const alice: Record<string, unknown> = { patientId: 'alice', tenantId: 'acme', ssn: 'alice-ssn' };
    await records.encrypt('Patient', [alice]);
    // The DBA stores Alice's row, then copies her ciphertext into Bob's row of the same tenant.
    const db = new Database(stack.file);
    db.exec('CREATE TABLE patient (patient_id TEXT PRIMARY KEY, tenant_id TEXT, ssn TEXT)');
    db.prepare('INSERT INTO patient VALUES (?, ?, ?)').run('alice', 'acme', alice.ssn);
    db.prepare("INSERT INTO patient SELECT 'bob', tenant_id, ssn FROM patient WHERE patient_id = 'alice'").run();
    const rows = db.prepare('SELECT patient_id AS patientId, tenant_id AS tenantId, ssn FROM patient ORDER BY patient_id').all() as Array<Record<string, unknown>>;
    db.close();
    expect(await codeOf(records.decrypt('Patient', [rows[1]!]))).toBe('CIPHERTEXT_TAMPERED');
    await records.decrypt('Patient', [rows[0]!]);
    expect(rows[0]!.ssn).toBe('alice-ssn');
    // A partial update binds the stored record's id from segmentSource.
    const update: Record<string, unknown> = { ssn: 'alice-new' };
    await records.encrypt('Patient', [update], () => ({ patientId: 'alice', tenantId: 'acme' }));
    expect(await codeOf(records.decrypt('Patient', [{ patientId: 'bob', tenantId: 'acme', ssn: update.ssn }]))).toBe('CIPHERTEXT_TAMPERED');
  });

  it('issue 11 §2 (review): with bindRecordId: false a row without its id is sealed, unbound, as the option says', async () => {
    const { records } = await setup(false);
    const row: Record<string, unknown> = { tenantId: 'acme', ssn: 'alice-ssn' };
    await records.encrypt('Patient', [row]);
    const bob: Record<string, unknown> = { patientId: 'bob', tenantId: 'acme', ssn: row.ssn };
    await records.decrypt('Patient', [bob]);
    expect(bob.ssn).toBe('alice-ssn');
  });
});

describe('issue 11 §2 (review): withoutRecordId is an explicit choice', () => {
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c().catch(() => undefined);
  });

  it('issue 11 §2 (review): withoutRecordId "seal-unbound" seals a row without its id unbound (the adapters\' choice for database-assigned ids); an unknown value is CONFIG_INVALID', async () => {
    const stack = await sqliteStack();
    closers.push(() => stack.close());
    const h = await KeyHierarchy.create({ rootKey: stack.rootKey, keyStore: stack.keyStore, cmkLabelPrefix: `rv-${Math.random().toString(36).slice(2)}` });
    await h.provision();
    const models = { Patient: { fields: [{ field: 'ssn' }] } };
    const segment = { by: 'tenant', field: 'tenantId' } as const;
    expect(() => new RecordEncryptor({ hierarchy: h, models, segment, withoutRecordId: 'ignore' as 'refuse' })).toThrow(/withoutRecordId/);
    const records = new RecordEncryptor({ hierarchy: h, models, segment, withoutRecordId: 'seal-unbound' });
    const row: Record<string, unknown> = { tenantId: 'acme', ssn: 'alice-ssn' };
    await records.encrypt('Patient', [row]);
    const bound: Record<string, unknown> = { id: 'p1', tenantId: 'acme', ssn: 'p1-ssn' };
    await records.encrypt('Patient', [bound]);
    expect(await codeOf(records.decrypt('Patient', [{ id: 'p2', tenantId: 'acme', ssn: bound.ssn }]))).toBe('CIPHERTEXT_TAMPERED');
  });
});
