import type {} from '@keystrata/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PatientRecord } from './support/entities.js';
import { codeOf, expectSealedAtRest, newId, rawPatient } from './support/checks.js';
import { prismaEmailIndex } from './support/prisma.js';
import { KINDS, openStack, type Stack } from './support/stack.js';

/** What a test wrote, by email (unique): the plaintext both adapters must return. */
type Expected = Record<string, { tenantId: string; ssn: string }>;

const plain = (rows: Array<{ tenantId: string; ssn: unknown; email: unknown }>) => Object.fromEntries(rows.map((r) => [String(r.email), { tenantId: r.tenantId, ssn: r.ssn }]));

describe.each(KINDS)('Prisma ↔ TypeORM on one %s database, one KeyHierarchy', (kind) => {
  let s: Stack;
  beforeEach(async () => {
    s = await openStack(kind);
  });
  afterEach(async () => {
    await s.close();
  });

  it('reads through TypeORM, with identical plaintext, what Prisma wrote (create, createMany, update)', async () => {
    const a = await s.prisma.patient.create({ data: { tenantId: 'north', ssn: 'canary-ssn-a', email: 'canary-a@example.test' } });
    await s.prisma.patient.createMany({
      data: [
        { tenantId: 'north', ssn: 'canary-ssn-b', email: 'canary-b@example.test' },
        { tenantId: 'south', ssn: 'canary-ssn-c', email: 'canary-c@example.test' },
      ],
    });
    await s.prisma.patient.update({ where: { id: a.id }, data: { ssn: 'canary-ssn-a2', email: 'canary-a2@example.test' } });
    const expected: Expected = {
      'canary-a2@example.test': { tenantId: 'north', ssn: 'canary-ssn-a2' },
      'canary-b@example.test': { tenantId: 'north', ssn: 'canary-ssn-b' },
      'canary-c@example.test': { tenantId: 'south', ssn: 'canary-ssn-c' },
    };

    const stored = await expectSealedAtRest(s.raw, 3);
    const viaTypeorm = await s.typeorm.repo.find({ order: { id: 'ASC' } });
    expect(plain(viaTypeorm)).toEqual(expected);
    expect(viaTypeorm.map((p) => p.id)).toEqual(stored.map((r) => r.id));

    // Prisma's blind index (written in emailIndex) is the one TypeORM computes and queries.
    for (const [email, want] of Object.entries(expected)) {
      const index = await s.typeorm.keystrata.indexFor(PatientRecord, 'email', email);
      const row = stored.find((r) => r.emailIndex === index);
      expect(row, `emailIndex of ${email} as TypeORM computes it`).toBeDefined();
      const found = await s.typeorm.repo.findOneBy({ email });
      expect(found).toMatchObject({ id: row!.id, tenantId: want.tenantId, ssn: want.ssn, email });
    }
    // The update replaced the index: the old email no longer finds anything, through either adapter.
    expect(await s.typeorm.repo.findOneBy({ email: 'canary-a@example.test' })).toBeNull();
    expect(await s.prisma.patient.findFirst({ where: { email: 'canary-a@example.test' } })).toBeNull();
  });

  it('reads through Prisma, by email through the blind index, what TypeORM wrote (save, update)', async () => {
    const ids = { a: newId('to'), b: newId('to'), c: newId('to') };
    await s.typeorm.repo.save({ id: ids.a, tenantId: 'north', ssn: 'canary-ssn-a', email: 'canary-a@example.test' });
    await s.typeorm.repo.save([
      { id: ids.b, tenantId: 'north', ssn: 'canary-ssn-b', email: 'canary-b@example.test' },
      { id: ids.c, tenantId: 'south', ssn: 'canary-ssn-c', email: 'canary-c@example.test' },
    ]);
    await s.typeorm.repo.update({ id: ids.a }, { ssn: 'canary-ssn-a2', email: 'canary-a2@example.test' });
    const b = await s.typeorm.repo.findOneByOrFail({ id: ids.b });
    b.ssn = 'canary-ssn-b2';
    await s.typeorm.repo.save(b); // save() of a loaded entity: the update path of the subscriber
    const expected: Expected = {
      'canary-a2@example.test': { tenantId: 'north', ssn: 'canary-ssn-a2' },
      'canary-b@example.test': { tenantId: 'north', ssn: 'canary-ssn-b2' },
      'canary-c@example.test': { tenantId: 'south', ssn: 'canary-ssn-c' },
    };

    const stored = await expectSealedAtRest(s.raw, 3);
    const viaPrisma = await s.prisma.patient.findMany({ orderBy: { id: 'asc' } });
    expect(plain(viaPrisma)).toEqual(expected);
    expect(viaPrisma.map((p) => p.id)).toEqual(stored.map((r) => r.id));

    const idOf = { 'canary-a2@example.test': ids.a, 'canary-b@example.test': ids.b, 'canary-c@example.test': ids.c } as Record<string, string>;
    for (const [email, want] of Object.entries(expected)) {
      // TypeORM's blind index (in emailIndex) is the one Prisma computes ...
      expect((await rawPatient(s.raw, idOf[email]!)).emailIndex).toBe(await prismaEmailIndex(s.prisma, email));
      // ... so Prisma's findFirst({ where: { email } }), rewritten to emailIndex, finds the row.
      const found = await s.prisma.patient.findFirst({ where: { email } });
      expect(found).toMatchObject({ id: idOf[email], tenantId: want.tenantId, ssn: want.ssn, email });
    }
    expect(await s.prisma.patient.findFirst({ where: { email: 'canary-a@example.test' } })).toBeNull();
  });

  it('fails a value swapped between rows with raw SQL with CIPHERTEXT_TAMPERED in both adapters', async () => {
    const p = await s.prisma.patient.create({ data: { tenantId: 'north', ssn: 'canary-ssn-p', email: 'canary-p@example.test' } });
    const t = newId('to');
    await s.typeorm.repo.save({ id: t, tenantId: 'north', ssn: 'canary-ssn-t', email: 'canary-t@example.test' });
    const other = newId('to');
    await s.typeorm.repo.save({ id: other, tenantId: 'south', ssn: 'canary-ssn-o', email: 'canary-o@example.test' });
    // Before tampering every row reads in both adapters.
    for (const id of [p.id, t, other]) {
      expect(await codeOf(s.prisma.patient.findUnique({ where: { id } }))).toBe('none');
      expect(await codeOf(s.typeorm.repo.findOneByOrFail({ id }))).toBe('none');
    }

    // Same tenant (same DEK): the record id bound into the AAD catches the swap.
    const [rp, rt] = [await rawPatient(s.raw, p.id), await rawPatient(s.raw, t)];
    await s.raw.run('UPDATE "Patient" SET ssn = ? WHERE id = ?', [rt.ssn, p.id]);
    await s.raw.run('UPDATE "Patient" SET ssn = ? WHERE id = ?', [rp.ssn, t]);
    // Across tenants (another DEK): the segment check catches it too.
    await s.raw.run('UPDATE "Patient" SET email = ? WHERE id = ?', [rt.email, other]);

    for (const id of [p.id, t, other]) {
      expect(await codeOf(s.prisma.patient.findUnique({ where: { id } })), `prisma ${id}`).toBe('CIPHERTEXT_TAMPERED');
      expect(await codeOf(s.typeorm.repo.findOneByOrFail({ id })), `typeorm ${id}`).toBe('CIPHERTEXT_TAMPERED');
    }
  });
});
