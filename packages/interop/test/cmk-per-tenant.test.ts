import type {} from '@keystrata/testing';
import { UnreadableValue } from '@keystrata/core';
import { envelopeDekId } from '@keystrata/core/adapter';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { codeOf, expectSealedAtRest, newId } from './support/checks.js';
import { KINDS, openStack, type Stack } from './support/stack.js';

/** A CMK (keyring) per tenant, chosen from the record by both adapters. */
const keyring = ({ record }: { record: Readonly<Record<string, unknown>> }) => `clinic-${String(record.tenantId)}`;

const TENANTS = ['north', 'south'] as const;

describe.each(KINDS)('a CMK per tenant through Prisma and TypeORM on %s', (kind) => {
  let s: Stack;
  /** id → what was written. */
  let written: Map<string, { tenantId: string; ssn: string; email: string }>;

  beforeEach(async () => {
    s = await openStack(kind, { keyring, provision: ['clinic-north', 'clinic-south'] });
    written = new Map();
    for (const tenantId of TENANTS) {
      const viaPrisma = { tenantId, ssn: `canary-ssn-prisma-${tenantId}`, email: `canary-prisma-${tenantId}@example.test` };
      const { id: prismaId } = await s.prisma.patient.create({ data: viaPrisma });
      // Updates that do not carry the tenant: the keyring function must still see the whole record.
      viaPrisma.ssn += '-v2';
      await s.prisma.patient.update({ where: { id: prismaId }, data: { ssn: viaPrisma.ssn } });
      written.set(prismaId, viaPrisma);
      const typeormId = newId('to');
      const viaTypeorm = { tenantId, ssn: `canary-ssn-typeorm-${tenantId}`, email: `canary-typeorm-${tenantId}@example.test` };
      await s.typeorm.repo.save({ id: typeormId, ...viaTypeorm });
      viaTypeorm.ssn += '-v2';
      await s.typeorm.repo.update({ id: typeormId }, { ssn: viaTypeorm.ssn });
      written.set(typeormId, viaTypeorm);
    }
  });
  afterEach(async () => {
    await s.close();
  });

  it("puts each tenant's values, from either adapter, under DEKs of its own keyring; both adapters read everything", async () => {
    const stored = await expectSealedAtRest(s.raw, 4);
    const deks = await s.raw.all('SELECT id, keyring, segment FROM keystrata_dek');
    const used = new Set<string>();
    for (const row of stored) {
      for (const field of ['ssn', 'email'] as const) {
        const dek = deks.find((d) => d.id === envelopeDekId(row[field]));
        expect(dek, `DEK of ${String(row.id)}.${field}`).toMatchObject({ keyring: `clinic-${String(row.tenantId)}`, segment: `tenantId:${String(row.tenantId)}` });
        used.add(`${String(dek!.keyring)} ${String(dek!.segment)}`);
      }
    }
    // Two adapters, one DEK per tenant, each in the tenant's keyring, and no stray tenant DEK elsewhere
    // (TypeORM's SQLite update() pre-creates DEKs: in the record's keyring too).
    expect([...used].sort()).toEqual(['clinic-north tenantId:north', 'clinic-south tenantId:south']);
    expect(
      deks
        .filter((d) => String(d.segment).startsWith('tenantId:'))
        .map((d) => `${String(d.keyring)} ${String(d.segment)}`)
        .sort(),
    ).toEqual(['clinic-north tenantId:north', 'clinic-south tenantId:south']);

    for (const [id, want] of written) {
      expect(await s.prisma.patient.findUnique({ where: { id } })).toMatchObject({ id, ...want });
      expect(await s.typeorm.repo.findOneBy({ id })).toMatchObject({ id, ...want });
      // Blind indexes stay under the hierarchy's keyring, so lookups work across the tenants' keyrings.
      expect((await s.prisma.patient.findFirst({ where: { email: want.email } }))?.id).toBe(id);
      expect((await s.typeorm.repo.findOneBy({ email: want.email }))?.id).toBe(id);
    }
  });

  it("disabling one tenant's CMK makes exactly that tenant's rows unreadable (KEY_DISABLED) in both adapters", async () => {
    await s.hierarchy.disable({ kind: 'cmk', keyring: 'clinic-north' }, { confirm: 'clinic-north' });

    for (const [id, want] of written) {
      const expected = want.tenantId === 'north' ? 'KEY_DISABLED' : 'none';
      expect(await codeOf(s.prisma.patient.findUnique({ where: { id } })), `prisma ${want.email}`).toBe(expected);
      expect(await codeOf(s.typeorm.repo.findOneByOrFail({ id })), `typeorm ${want.email}`).toBe(expected);
      expect(await codeOf(s.prisma.patient.findFirst({ where: { email: want.email } })), `prisma by email ${want.email}`).toBe(expected);
      expect(await codeOf(s.typeorm.repo.findOneByOrFail({ email: want.email })), `typeorm by email ${want.email}`).toBe(expected);
    }
    expect(await codeOf(s.prisma.patient.findMany({ where: { tenantId: 'south' } }))).toBe('none');
    expect(await codeOf(s.typeorm.repo.findBy({ tenantId: 'south' }))).toBe('none');

    // Reading everything with placeholders shows exactly which values are gone, in both adapters.
    const prisma = await s.extendPrisma({ onUnreadable: 'placeholder' }).patient.findMany();
    const typeorm = await (await s.openTypeorm({ onUnreadable: 'placeholder' })).repo.find();
    for (const rows of [prisma, typeorm]) {
      expect(rows).toHaveLength(4);
      for (const row of rows) {
        const want = written.get(row.id)!;
        for (const field of ['ssn', 'email'] as const) {
          if (want.tenantId === 'north') {
            expect(UnreadableValue.isInstance(row[field]), `${row.id}.${field} unreadable`).toBe(true);
            expect((row[field] as unknown as UnreadableValue).code).toBe('KEY_DISABLED');
          } else {
            expect(row[field]).toBe(want[field]);
          }
        }
      }
    }

    // Disabling is reversible: the tenant's rows read again, through both adapters.
    await s.hierarchy.enable({ kind: 'cmk', keyring: 'clinic-north' }, { confirm: 'clinic-north' });
    for (const [id, want] of written) {
      expect(await s.prisma.patient.findUnique({ where: { id } })).toMatchObject(want);
      expect(await s.typeorm.repo.findOneBy({ id })).toMatchObject(want);
    }
  });
});
