import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { codeOf, expectNoPlaintext } from './support/canary.js';
import { seedUser } from './support/fixtures.js';
import { STACKS, type Stack } from './support/stacks.js';

describe.each(STACKS)('updates on %s', (_name, makeStack) => {
  let s: Stack;
  beforeEach(async () => {
    s = await makeStack();
  });
  afterEach(async () => {
    await s.close();
  });

  it('update without the tenant in where/data looks it up, encrypts bound to id + segment, returns plaintext', async () => {
    const user = await seedUser(s.db, 'upd');
    const updated = await s.db.user.update({ where: { id: user.id }, data: { name: { set: 'canary renamed' } }, select: { name: true } });
    expect(updated).toEqual({ name: 'canary renamed' });
    await s.db.user.update({ where: { id: user.id, email: 'canary-upd@example.test' }, data: { email: 'canary-new@example.test' } });
    expect(await codeOf(s.db.user.update({ where: { id: user.id, email: 'canary-upd@example.test' }, data: { name: 'x' } }))).toBe('P2025');
    await expectNoPlaintext(s.raw, 'User');
    expect(await s.db.user.findFirst({ where: { email: 'canary-new@example.test' }, select: { name: true } })).toEqual({ name: 'canary renamed' });
    await s.db.user.update({ where: { id: user.id }, data: { name: null } });
    expect((await s.raw.all('SELECT "name" FROM "User"'))[0]!.name).toBeNull();
  });

  it('needs no lookup when where pins id and tenant (prefetch off), and fails closed when it does not', async () => {
    const strict = s.extend({ prefetch: false });
    const user = await seedUser(s.db, 'strict');
    await strict.user.update({ where: { id: user.id, tenantId: 'tenant-a' }, data: { name: 'canary strict' } });
    expect((await s.db.user.findUniqueOrThrow({ where: { id: user.id } })).name).toBe('canary strict');
    expect(await codeOf(strict.user.update({ where: { id: user.id }, data: { name: 'canary loose' } }))).toBe('QUERY_UNSUPPORTED');
    expect((await s.db.user.findUniqueOrThrow({ where: { id: user.id } })).name).toBe('canary strict');
  });

  it('updateMany / updateManyAndReturn give every row its own ciphertext (different tenants, bound ids)', async () => {
    const a = await seedUser(s.db, 'many-a', 'tenant-a');
    const b = await seedUser(s.db, 'many-b', 'tenant-b');
    expect(await s.db.user.updateMany({ where: { role: 'member' }, data: { name: 'canary shared' } })).toEqual({ count: 2 });
    const stored = await expectNoPlaintext(s.raw, 'User');
    expect(new Set(stored.map((r) => r.name)).size).toBe(2);
    for (const id of [a.id, b.id]) expect((await s.db.user.findUniqueOrThrow({ where: { id } })).name).toBe('canary shared');
    const returned = await s.db.user.updateManyAndReturn({ where: { tenantId: 'tenant-b' }, data: { email: 'canary-b2@example.test' }, select: { email: true, name: true } });
    expect(returned).toEqual([{ email: 'canary-b2@example.test', name: 'canary shared' }]);
    expect(await s.db.user.updateMany({ where: { email: 'canary-b2@example.test' }, data: { role: 'admin' } })).toEqual({ count: 1 });
    await expectNoPlaintext(s.raw, 'User');
  });

  it('upsert encrypts both branches: create when missing, update when present', async () => {
    const created = await s.db.patient.upsert({
      where: { id: 'p-upsert' },
      create: { id: 'p-upsert', tenantId: 'tenant-a', ssn: 'CANARY-C', email: 'canary-c@example.test' },
      update: { ssn: 'CANARY-U' },
    });
    expect(created.ssn).toBe('CANARY-C');
    const updated = await s.db.patient.upsert({ where: { id: 'p-upsert' }, create: { tenantId: 'tenant-a', ssn: 'CANARY-X', email: 'canary-x@example.test' }, update: { ssn: 'CANARY-U' } });
    expect(updated).toMatchObject({ id: 'p-upsert', ssn: 'CANARY-U', email: 'canary-c@example.test' });
    const byEmail = await s.db.patient.upsert({
      where: { emailIndex: await s.db.$keystrata.indexFor('Patient', 'email', 'canary-new@example.test') },
      create: { tenantId: 'tenant-b', ssn: 'CANARY-N', email: 'canary-new@example.test' },
      update: { ssn: 'CANARY-never' },
    });
    expect(byEmail.ssn).toBe('CANARY-N');
    await expectNoPlaintext(s.raw, 'Patient');
    expect(await s.db.patient.count()).toBe(2);
  });

  it('nested update / updateMany / upsert / create at depth 2 and 3 are encrypted with their own context', async () => {
    const user = await seedUser(s.db, 'deep');
    const bare = await s.db.user.create({ data: { tenantId: 'tenant-a', email: 'canary-bare@example.test' } });
    const post = user.posts[0]!;
    await s.db.user.update({
      where: { id: user.id },
      data: {
        profile: { update: { bio: 'canary bio v2' } },
        posts: {
          update: {
            where: { id: post.id },
            data: { title: 'canary title v2', comments: { updateMany: { where: {}, data: { body: 'canary body v2' } }, create: { tenantId: 'tenant-a', body: 'canary body new' } } },
          },
          upsert: { where: { id: 'nope' }, create: { tenantId: 'tenant-a', title: 'canary upserted' }, update: { title: 'canary never' } },
        },
      },
    });
    await s.db.user.update({ where: { id: bare.id }, data: { profile: { upsert: { create: { tenantId: 'tenant-a', bio: 'canary bare bio' }, update: { bio: 'canary never' } } } } });
    await s.db.user.update({ where: { id: bare.id }, data: { profile: { upsert: { create: { tenantId: 'tenant-a', bio: 'canary never' }, update: { bio: 'canary bare bio v2' } } } } });
    await s.db.user.update({ where: { id: user.id }, data: { posts: { updateMany: { where: { published: false }, data: { title: 'canary all titles' } } } } });
    for (const table of ['User', 'Post', 'Comment', 'profiles']) await expectNoPlaintext(s.raw, table);
    const read = await s.db.user.findUniqueOrThrow({ where: { id: user.id }, include: { profile: true, posts: { include: { comments: { orderBy: { id: 'asc' } } } } } });
    expect(read.profile!.bio).toBe('canary bio v2');
    expect(read.posts.map((p) => p.title)).toEqual(['canary all titles', 'canary all titles']);
    expect(read.posts.flatMap((p) => p.comments.map((c) => c.body))).toEqual(['canary body v2', 'canary body new']);
    expect((await s.db.user.findUniqueOrThrow({ where: { id: bare.id } }).profile())!.bio).toBe('canary bare bio v2');
  });

  it('a nested upsert whose update branch writes deeper: updates when present, creates when missing', async () => {
    const user = await seedUser(s.db, 'up');
    const [post, comment] = [user.posts[0]!, user.posts[0]!.comments[0]!];
    const upsert = (id: string, title: string) =>
      s.db.user.update({
        where: { id: user.id },
        data: { posts: { upsert: { where: { id }, create: { tenantId: 'tenant-a', title }, update: { comments: { update: { where: { id: comment.id }, data: { body: `canary via ${title}` } } } } } } },
      });
    await upsert(post.id, 'canary present');
    expect((await s.db.comment.findUniqueOrThrow({ where: { id: comment.id } })).body).toBe('canary via canary present');
    await upsert('missing', 'canary created');
    const read = await s.db.user.findUniqueOrThrow({ where: { id: user.id }, include: { posts: { include: { comments: true } } } });
    expect(read.posts.map((p) => [p.title, p.comments.map((c) => c.body)]).sort()).toEqual([
      ['canary created', []],
      ['canary title up', ['canary via canary present']],
    ]);
    await expectNoPlaintext(s.raw, 'Post');
  });

  it('refuses writes that would strand ciphertext or fake an index; nothing is written', async () => {
    const p = await s.db.patient.create({ data: { tenantId: 'tenant-a', ssn: 'CANARY-1', email: 'canary@example.test' } });
    expect(await codeOf(s.db.patient.update({ where: { id: p.id }, data: { tenantId: 'tenant-b' } }))).toBe('QUERY_UNSUPPORTED');
    expect(await codeOf(s.db.patient.update({ where: { id: p.id }, data: { id: 'moved', ssn: 'CANARY-2' } }))).toBe('QUERY_UNSUPPORTED');
    expect(await codeOf(s.db.patient.update({ where: { id: p.id }, data: { emailIndex: 'forged' } }))).toBe('QUERY_UNSUPPORTED');
    expect(await codeOf(s.db.patient.update({ where: { id: p.id }, data: { ssn: { set: undefined, unset: true } as never } }))).toBe('QUERY_UNSUPPORTED');
    expect(await s.db.patient.findUniqueOrThrow({ where: { id: p.id } })).toMatchObject({ tenantId: 'tenant-a', ssn: 'CANARY-1' });
    const moved = await s.db.patient.update({ where: { id: p.id }, data: { tenantId: 'tenant-b', ssn: 'CANARY-3', email: 'canary-3@example.test' } });
    expect(moved).toMatchObject({ tenantId: 'tenant-b', ssn: 'CANARY-3' });
    expect(await codeOf(s.db.patient.update({ where: { id: 'missing' }, data: { ssn: 'CANARY-4' } }))).toBe('P2025');
  });
});
