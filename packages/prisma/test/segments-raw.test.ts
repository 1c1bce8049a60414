import { decodeEnvelope, envelopeDekId } from '@keystrata/core/adapter';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decryptRow } from '../src/index.js';
import { codeOf } from './support/canary.js';
import { STACKS, type Stack } from './support/stacks.js';

const recordBound = (text: unknown) => (decodeEnvelope(text).flags & 1) === 1;

describe.each(STACKS)('segments, record binding and raw queries on %s', (_name, makeStack) => {
  let s: Stack;
  beforeEach(async () => {
    s = await makeStack();
  });
  afterEach(async () => {
    await s.close();
  });

  const ssnDek = async (id: string) => envelopeDekId(String((await s.raw.all('SELECT "ssn" FROM "Patient" WHERE "id" = ?', [id]))[0]!.ssn));
  const patient = (tenantId: string, n: number) => ({ tenantId, ssn: `CANARY-${n}`, email: `canary-${n}@example.test` });

  it('per-tenant, per-record, fixed and function policies choose the DEK', async () => {
    const perTenant = [await s.db.patient.create({ data: patient('a', 1) }), await s.db.patient.create({ data: patient('a', 2) }), await s.db.patient.create({ data: patient('b', 3) })];
    expect(await ssnDek(perTenant[0]!.id)).toBe(await ssnDek(perTenant[1]!.id));
    expect(await ssnDek(perTenant[0]!.id)).not.toBe(await ssnDek(perTenant[2]!.id));
    const perRecord = s.extend({ segment: { by: 'record' } });
    const [r1, r2] = [await perRecord.patient.create({ data: patient('a', 4) }), await perRecord.patient.create({ data: patient('a', 5) })];
    expect(await ssnDek(r1.id)).not.toBe(await ssnDek(r2.id));
    expect((await perRecord.patient.update({ where: { id: r1.id }, data: { ssn: 'CANARY-4b' } })).ssn).toBe('CANARY-4b');
    expect(
      await codeOf(
        perRecord.comment.create({
          data: { tenantId: 'a', body: 'canary', post: { create: { tenantId: 'a', title: 'canary', author: { create: { tenantId: 'a', email: 'canary-c@example.test' } } } } },
        }),
      ),
    ).toBe('CONFIG_INVALID');
    const fixed = s.extend({ segment: { by: 'fixed', segment: 'everyone' } });
    const [f1, f2] = [await fixed.patient.create({ data: patient('a', 6) }), await fixed.patient.create({ data: patient('b', 7) })];
    expect(await ssnDek(f1.id)).toBe(await ssnDek(f2.id));
    const byFunction = s.extend({ segment: ({ record }) => `region:${String(record.tenantId).slice(0, 1)}` });
    const g = await byFunction.patient.create({ data: patient('eu-1', 8) });
    await byFunction.patient.update({ where: { id: g.id }, data: { ssn: 'CANARY-8b' } });
    expect((await byFunction.patient.findUniqueOrThrow({ where: { id: g.id } })).ssn).toBe('CANARY-8b');
  });

  it("nested creates inherit their parent's id, so a segment function can group children with their parent", async () => {
    const byUser = s.extend({ segment: ({ model, id, record }) => `user:${model === 'User' ? String(id) : String(record.authorId)}` });
    const user = await byUser.user.create({
      data: {
        tenantId: 'a',
        email: 'canary-n@example.test',
        posts: {
          create: [
            { tenantId: 'a', title: 'canary t1' },
            { tenantId: 'a', title: 'canary t2' },
          ],
        },
      },
      include: { posts: { orderBy: { id: 'asc' } } },
    });
    const [email] = await s.raw.all('SELECT "email" FROM "User" WHERE "id" = ?', [user.id]);
    const titles = await s.raw.all('SELECT "title" FROM "Post" WHERE "authorId" = ?', [user.id]);
    expect(titles.map((t) => envelopeDekId(String(t.title)))).toEqual([envelopeDekId(String(email!.email)), envelopeDekId(String(email!.email))]);
    expect(user.posts.map((p) => p.title).sort()).toEqual(['canary t1', 'canary t2']);
    expect((await byUser.post.findMany({ where: { authorId: user.id } })).map((p) => p.title).sort()).toEqual(['canary t1', 'canary t2']);
  });

  it('binds client-generated ids into the AAD; database ids bind only once known (on update)', async () => {
    const p = await s.db.patient.create({ data: patient('a', 1) });
    expect(recordBound((await s.raw.all('SELECT "ssn" FROM "Patient"'))[0]!.ssn)).toBe(true);
    const user = await s.db.user.create({
      data: {
        tenantId: 'a',
        email: 'canary-u@example.test',
        posts: {
          create: {
            tenantId: 'a',
            title: 'canary',
            comments: {
              create: [
                { tenantId: 'a', body: 'canary 1' },
                { tenantId: 'a', body: 'canary 2' },
              ],
            },
          },
        },
      },
      include: { posts: { include: { comments: { orderBy: { id: 'asc' } } } } },
    });
    const [c1, c2] = user.posts[0]!.comments;
    const bodies = await s.raw.all('SELECT "id", "body" FROM "Comment" ORDER BY "id"');
    expect(bodies.map((r) => recordBound(r.body))).toEqual([false, false]);
    await s.raw.run('UPDATE "Comment" SET "body" = ? WHERE "id" = ?', [bodies[0]!.body, c2!.id]);
    expect((await s.db.comment.findUniqueOrThrow({ where: { id: c2!.id } })).body).toBe('canary 1'); // documented: unbound
    await s.db.comment.update({ where: { id: c1!.id }, data: { body: 'canary 1b' } });
    const rebound = await s.raw.all('SELECT "body" FROM "Comment" WHERE "id" = ?', [c1!.id]);
    expect(recordBound(rebound[0]!.body)).toBe(true);
    await s.raw.run('UPDATE "Comment" SET "body" = ? WHERE "id" = ?', [rebound[0]!.body, c2!.id]);
    expect(await codeOf(s.db.comment.findUnique({ where: { id: c2!.id } }))).toBe('CIPHERTEXT_TAMPERED');
    expect(p.id).toBeTruthy();
  });

  it('$queryRaw returns ciphertext; decryptRow decrypts it (aliased @map columns too)', async () => {
    const p = await s.db.patient.create({ data: patient('a', 1) });
    const user = await s.db.user.create({ data: { tenantId: 'a', email: 'canary-u@example.test', profile: { create: { tenantId: 'a', bio: 'canary bio' } } } });
    const rows = await s.db.$queryRawUnsafe<Array<Record<string, unknown>>>('SELECT "id", "tenantId", "ssn", "email" FROM "Patient"');
    expect(String(rows[0]!.ssn)).toMatch(/^ks1\./);
    expect(await decryptRow(s.db, 'Patient', rows)).toEqual([{ id: p.id, tenantId: 'a', ssn: 'CANARY-1', email: 'canary-1@example.test' }]);
    expect(String(rows[0]!.ssn)).toMatch(/^ks1\./); // copies: the raw rows are untouched
    const [profile] = await s.db.$queryRawUnsafe<Array<Record<string, unknown>>>(
      'SELECT "id", "tenantId", "bio_cipher" AS "bio" FROM "profiles" WHERE "userId" = $1'.replace('$1', s.name === 'sqlite' ? '?' : '$1'),
      user.id,
    );
    expect((await s.db.$keystrata.decryptRow('Profile', profile!)).bio).toBe('canary bio');
    expect(await codeOf(decryptRow(s.db, 'Patient', { ...rows[0], id: 'other' }))).toBe('CIPHERTEXT_TAMPERED');
    expect(await codeOf(decryptRow(s.db, 'Nope', rows[0]!))).toBe('CONFIG_INVALID');
    const inTx = await s.db.$transaction(async (tx) => decryptRow(tx, 'Patient', (await tx.$queryRawUnsafe<Array<Record<string, unknown>>>('SELECT * FROM "Patient"'))[0]!));
    expect(inTx.ssn).toBe('CANARY-1');
    expect(await codeOf(decryptRow(s.base, 'Patient', rows[0]!))).toBe('CONFIG_INVALID');
  });
});
