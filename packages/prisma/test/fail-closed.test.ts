import { UnreadableValue } from '@keystrata/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { codeOf } from './support/canary.js';
import { seedUser } from './support/fixtures.js';
import { STACKS, type Stack } from './support/stacks.js';

describe.each(STACKS)('fail-closed behaviour on %s', (_name, makeStack) => {
  let s: Stack;
  beforeEach(async () => {
    s = await makeStack();
  });
  afterEach(async () => {
    await s.close();
  });

  it('with the HSM unreachable, writes throw HSM_UNAVAILABLE and write nothing, at any depth', async () => {
    await seedUser(s.db, 'before');
    await s.rootKey.close();
    s.hierarchy.clearCache();
    expect(await codeOf(seedUser(s.db, 'after', 'tenant-new'))).toBe('HSM_UNAVAILABLE');
    expect(await codeOf(s.db.patient.create({ data: { tenantId: 'tenant-a', ssn: 'CANARY', email: 'canary@example.test' } }))).toBe('HSM_UNAVAILABLE');
    expect(await codeOf(s.db.user.findMany())).toBe('HSM_UNAVAILABLE');
    for (const table of ['User', 'Post', 'Comment', 'profiles']) expect((await s.raw.all(`SELECT * FROM "${table}"`)).length).toBe(1);
    expect((await s.raw.all('SELECT * FROM "Patient"')).length).toBe(0);
  });

  it('with a revoked segment key, reads and writes throw KEY_DISABLED; placeholders are opt-in', async () => {
    const a = await seedUser(s.db, 'revoked', 'tenant-a');
    const b = await seedUser(s.db, 'other', 'tenant-b');
    await s.hierarchy.disable({ kind: 'segment', segment: 'tenantId:tenant-a' });
    expect(await codeOf(s.db.user.findUnique({ where: { id: a.id } }))).toBe('KEY_DISABLED');
    expect(await codeOf(s.db.user.update({ where: { id: a.id }, data: { name: 'canary new' } }))).toBe('KEY_DISABLED');
    expect((await s.raw.all('SELECT "name" FROM "User" WHERE "id" = ?', [a.id]))[0]!.name).toMatch(/^ks1\./);
    expect((await s.db.user.findUniqueOrThrow({ where: { id: b.id } })).name).toBe('Canary other');
    const lenient = s.extend({ onUnreadable: 'placeholder' });
    const [row] = await lenient.user.findMany({ where: { id: a.id }, include: { posts: true } });
    expect(UnreadableValue.isInstance(row!.name) && row!.name.code).toBe('KEY_DISABLED');
    expect(UnreadableValue.isInstance(row!.posts[0]!.title)).toBe(true);
    expect(JSON.stringify(row)).not.toMatch(/ks1\.|canary/i);
  });

  it('a create without its segment field fails closed with nothing written', async () => {
    const noTenant = { ssn: 'CANARY', email: 'canary@example.test' } as { tenantId: string; ssn: string; email: string };
    expect(await codeOf(s.db.patient.create({ data: noTenant }))).toBe('CONFIG_INVALID');
    expect(await codeOf(s.db.user.create({ data: { tenantId: 't', email: 'canary@example.test', posts: { create: { title: 'canary' } as never } } }))).toBe('CONFIG_INVALID');
    expect((await s.raw.all('SELECT * FROM "Patient"')).length + (await s.raw.all('SELECT * FROM "User"')).length).toBe(0);
  });

  it('refuses to store an envelope written by the caller, and never hands one back undecrypted', async () => {
    const p = await s.db.patient.create({ data: { tenantId: 'tenant-a', ssn: 'CANARY', email: 'canary@example.test' } });
    const [stored] = await s.raw.all('SELECT "ssn" FROM "Patient"');
    expect(await codeOf(s.db.patient.update({ where: { id: p.id }, data: { ssn: String(stored!.ssn) } }))).toBe('PLAINTEXT_REJECTED');
    await s.raw.run('UPDATE "Patient" SET "note" = ? WHERE "id" = ?', [stored!.ssn, p.id]);
    expect(await codeOf(s.db.patient.findUnique({ where: { id: p.id } }))).toBe('QUERY_UNSUPPORTED');
  });

  it('validates its options once, when the client is extended', () => {
    expect(() => s.extend({ segment: { by: 'tenant', field: 'orgId' } })).toThrow(/segment field "orgId" does not exist/);
    expect(() => s.extend({ fieldMap: { version: 2 } as never })).toThrow(/CONFIG_INVALID/);
    expect(() => s.extend({ onUnreadable: 'ignore' as never })).toThrow(/onUnreadable/);
    expect(() => s.extend({ segments: {} } as never)).toThrow(/Unknown withKeystrata option key "segments" \(did you mean "segment"\?\)/);
  });

  it('issue 13 §1: the hierarchy option is named hierarchy, and keystrata still works as its deprecated alias', async () => {
    const legacy = s.extend({ hierarchy: undefined, keystrata: s.hierarchy });
    const created = await legacy.patient.create({ data: { tenantId: 'tenant-a', ssn: 'CANARY', email: 'alias@example.test' } });
    expect((await s.raw.all('SELECT "ssn" FROM "Patient" WHERE "id" = ?', [created.id]))[0]!.ssn).toMatch(/^ks1\./);
    expect((await s.db.patient.findUniqueOrThrow({ where: { id: created.id } })).ssn).toBe('CANARY');
    expect(() => s.extend({ keystrata: s.hierarchy } as never)).toThrow(/both hierarchy and keystrata/);
    expect(() => s.extend({ hierarchy: undefined })).toThrow(/CONFIG_INVALID: withKeystrata needs hierarchy/);
  });

  it('issue 13 §1: a misspelt option is refused, naming it and the closest valid key', () => {
    expect(() => s.extend({ hierachy: s.hierarchy } as never)).toThrow(/CONFIG_INVALID: Unknown withKeystrata option key "hierachy" \(did you mean "hierarchy"\?\)/);
    expect(() => s.extend({ onUnreadble: 'placeholder' } as never)).toThrow(/"onUnreadble" \(did you mean "onUnreadable"\?\)/);
  });
});
