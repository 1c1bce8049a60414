import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { codeOf, expectNoPlaintext } from './support/canary.js';
import { STACKS, type Stack } from './support/stacks.js';

describe.each(STACKS)('issue 12 (Prisma) on %s', (_name, makeStack) => {
  let s: Stack;
  beforeEach(async () => {
    s = await makeStack();
  });
  afterEach(async () => {
    await s.close();
  });

  const patient = (tenantId: string, n: number) => ({ tenantId, ssn: `CANARY-${n}`, email: `canary-${n}@example.test` });

  it('issue 12: a blind index supplied on create (with its plaintext field) is refused, nothing written', async () => {
    const a = await s.db.patient.create({ data: patient('a', 1) });
    const [stored] = await s.raw.all('SELECT "emailIndex" FROM "Patient" WHERE "id" = ?', [a.id]);
    const planted = { ...patient('a', 2), emailIndex: `${String(stored!.emailIndex)}x` };
    expect(await codeOf(s.db.patient.create({ data: planted }))).toBe('QUERY_UNSUPPORTED');
    expect(await codeOf(s.db.patient.createMany({ data: [planted] }))).toBe('QUERY_UNSUPPORTED');
    expect(await codeOf(s.db.patient.create({ data: { ...patient('a', 3), emailIndex: null } }))).toBe('QUERY_UNSUPPORTED');
    expect(await codeOf(s.db.patient.update({ where: { id: a.id }, data: { email: 'canary-9@example.test', emailIndex: 'bi1.planted' } }))).toBe('QUERY_UNSUPPORTED');
    expect(await codeOf(s.db.patient.upsert({ where: { id: 'nope' }, create: planted, update: {} }))).toBe('QUERY_UNSUPPORTED');
    expect((await s.raw.all('SELECT "id" FROM "Patient"')).length).toBe(1);
    expect((await s.db.patient.findFirstOrThrow({ where: { email: 'canary-1@example.test' } })).id).toBe(a.id);
    const cleared = await s.db.patient.update({ where: { id: a.id }, data: { note: 'n' } });
    expect(cleared.email).toBe('canary-1@example.test');
  });

  it('issue 12: a query extension chained after withKeystrata that writes plaintext is refused before anything is sent', async () => {
    const planting = s.db.$extends({
      query: { patient: { create: ({ args, query }) => query({ ...args, data: { ...args.data, ssn: 'CANARY-PLANTED' } }) } },
    });
    expect(await codeOf(planting.patient.create({ data: patient('a', 1) }))).toBe('CONFIG_INVALID');
    const mutating = s.db.$extends({
      query: {
        $allModels: {
          $allOperations: ({ args, query }) => {
            (args as { data?: { ssn?: string } }).data!.ssn = 'CANARY-MUTATED';
            return query(args);
          },
        },
      },
    });
    expect(await codeOf(mutating.patient.create({ data: patient('a', 2) }))).toBe('CONFIG_INVALID');
    expect((await s.raw.all('SELECT * FROM "Patient"')).length).toBe(0);
    const harmless = s.db.$extends({ result: { patient: { shout: { needs: { note: true }, compute: (p) => `${p.note ?? ''}!` } } } });
    const created = await harmless.patient.create({ data: { ...patient('a', 3), note: 'hi' } });
    expect([created.ssn, created.shout]).toEqual(['CANARY-3', 'hi!']);
    const logged: string[] = [];
    const logging = s.db.$extends({ query: { $allModels: { $allOperations: ({ model, operation, args, query }) => (logged.push(`${model}.${operation}`), query(args)) } } });
    const [batched] = await logging.$transaction([logging.patient.create({ data: patient('a', 4) })]);
    const inTx = await logging.$transaction(async (tx) => tx.patient.update({ where: { id: batched.id }, data: { ssn: 'CANARY-4b' } }));
    await logging.patient.updateMany({ where: { tenantId: 'a' }, data: { ssn: 'CANARY-all' } });
    expect([inTx.ssn, logged.length > 0]).toEqual(['CANARY-4b', true]);
    expect((await logging.patient.findMany({ select: { ssn: true } })).map((p) => p.ssn)).toEqual(['CANARY-all', 'CANARY-all']);
    await expectNoPlaintext(s.raw, 'Patient');
  });

  it("issue 12 / issue 11 §2: a value moved into another tenant's row fails even when only the encrypted field is selected", async () => {
    const a = await s.db.patient.create({ data: patient('tenant-a', 1) });
    const b = await s.db.patient.create({ data: patient('tenant-b', 2) });
    const [moved] = await s.raw.all('SELECT "ssn" FROM "Patient" WHERE "id" = ?', [a.id]);
    // The attacker also copies the id binding away: per-tenant values of rows with unbound ids.
    await s.raw.run('UPDATE "Patient" SET "ssn" = ? WHERE "id" = ?', [moved!.ssn, b.id]);
    expect(await codeOf(s.db.patient.findUnique({ where: { id: b.id }, select: { ssn: true } }))).toBe('CIPHERTEXT_TAMPERED');
    expect(await codeOf(s.db.patient.findMany({ select: { ssn: true } }))).toBe('CIPHERTEXT_TAMPERED');
    expect(await codeOf(s.db.patient.findMany({ omit: { tenantId: true, id: true } }))).toBe('CIPHERTEXT_TAMPERED');
    const ok = await s.db.patient.findUniqueOrThrow({ where: { id: a.id }, select: { ssn: true } });
    expect(ok).toEqual({ ssn: 'CANARY-1' });
  });

  it("issue 12 / issue 11 §2: with unbound ids, a value moved into another tenant's row still fails on the segment", async () => {
    const unbound = s.extend({ bindRecordId: false });
    const a = await unbound.patient.create({ data: patient('tenant-a', 1) });
    const b = await unbound.patient.create({ data: patient('tenant-b', 2) });
    const [moved] = await s.raw.all('SELECT "ssn" FROM "Patient" WHERE "id" = ?', [a.id]);
    await s.raw.run('UPDATE "Patient" SET "ssn" = ? WHERE "id" = ?', [moved!.ssn, b.id]);
    expect(await codeOf(unbound.patient.findUnique({ where: { id: b.id }, select: { ssn: true } }))).toBe('CIPHERTEXT_TAMPERED');
    expect(await codeOf(unbound.patient.findMany({ select: { ssn: true, note: true } }))).toBe('CIPHERTEXT_TAMPERED');
    expect(await unbound.patient.findUniqueOrThrow({ where: { id: a.id }, select: { ssn: true } })).toEqual({ ssn: 'CANARY-1' });
  });

  it('issue 12 / issue 11 §2: with a function policy, a read selecting only the encrypted field gives the function the whole record', async () => {
    const byRegion = s.extend({ segment: ({ record }) => `region:${String(record.tenantId)}`, bindRecordId: false });
    const a = await byRegion.patient.create({ data: patient('eu', 1) });
    const b = await byRegion.patient.create({ data: patient('us', 2) });
    expect(await byRegion.patient.findUniqueOrThrow({ where: { id: a.id }, select: { ssn: true } })).toEqual({ ssn: 'CANARY-1' });
    const [moved] = await s.raw.all('SELECT "ssn" FROM "Patient" WHERE "id" = ?', [a.id]);
    await s.raw.run('UPDATE "Patient" SET "ssn" = ? WHERE "id" = ?', [moved!.ssn, b.id]);
    expect(await codeOf(byRegion.patient.findUnique({ where: { id: b.id }, select: { ssn: true } }))).toBe('CIPHERTEXT_TAMPERED');
  });
});
