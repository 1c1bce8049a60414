import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ENVELOPE, expectNoPlaintext } from './support/canary.js';
import { seedUser } from './support/fixtures.js';
import { STACKS, type Stack } from './support/stacks.js';

describe.each(STACKS)('creates and reads on %s', (_name, makeStack) => {
  let s: Stack;
  beforeEach(async () => {
    s = await makeStack();
  });
  afterEach(async () => {
    await s.close();
  });

  it('create with nested create / createMany / connectOrCreate stores only ciphertext at every depth', async () => {
    const user = await seedUser(s.db, 'nested');
    expect(user.posts[0]!.comments[0]!.body).toBe('canary body nested');
    expect(user.profile!.bio).toBe('canary bio nested');
    await s.db.user.update({
      where: { id: user.id },
      data: {
        posts: {
          createMany: {
            data: [
              { tenantId: 'tenant-a', title: 'canary many 1' },
              { tenantId: 'tenant-a', title: 'canary many 2' },
            ],
          },
        },
      },
    });
    const post = await s.db.post.create({
      data: { tenantId: 'tenant-a', title: 'canary coc', author: { connectOrCreate: { where: { emailIndex: 'none' }, create: { tenantId: 'tenant-a', email: 'canary-coc@example.test' } } } },
      include: { author: true },
    });
    expect(post.author.email).toBe('canary-coc@example.test');
    for (const table of ['User', 'Post', 'Comment', 'profiles']) await expectNoPlaintext(s.raw, table);
    const [raw] = await s.raw.all('SELECT "bio_cipher" FROM "profiles"');
    expect(raw!.bio_cipher).toMatch(ENVELOPE);
    const titles = (await s.db.post.findMany({ where: { authorId: user.id } })).map((p) => p.title).sort();
    expect(titles).toEqual(['canary many 1', 'canary many 2', 'canary title nested']);
  });

  it('decrypts a result and its included relations in one batch: one DEK lookup for all models', async () => {
    await seedUser(s.db, 'batch');
    await s.db.user.findMany({ include: { profile: true, posts: { include: { comments: true } } } }); // warm
    const before = s.hierarchy.stats().deks;
    const [user] = await s.db.user.findMany({ include: { profile: true, posts: { include: { comments: true } } } });
    const after = s.hierarchy.stats().deks;
    expect(user!.posts[0]!.comments[0]!.body).toBe('canary body batch');
    expect(after.hits + after.misses - before.hits - before.misses).toBe(1); // User, Profile, Post, Comment share tenant-a's DEK
  });

  it('createMany and createManyAndReturn encrypt every row; the returned rows are plaintext', async () => {
    expect(
      await s.db.patient.createMany({
        data: [
          { tenantId: 'tenant-a', ssn: 'CANARY-1', email: 'canary-1@example.test' },
          { tenantId: 'tenant-b', ssn: 'CANARY-2', email: 'canary-2@example.test' },
        ],
      }),
    ).toEqual({ count: 2 });
    const returned = await s.db.patient.createManyAndReturn({ data: [{ tenantId: 'tenant-a', ssn: 'CANARY-3', email: 'canary-3@example.test' }], select: { ssn: true } });
    expect(returned).toEqual([{ ssn: 'CANARY-3' }]);
    await expectNoPlaintext(s.raw, 'Patient');
    const all = await s.db.patient.findMany({ select: { ssn: true, email: true } });
    expect(all.map((p) => p.ssn).sort()).toEqual(['CANARY-1', 'CANARY-2', 'CANARY-3']);
  });

  it('findUnique / findFirst / findMany decrypt with select, include and omit, returning exactly the selected shape', async () => {
    const user = await seedUser(s.db, 'shape');
    const selected = await s.db.user.findUnique({ where: { id: user.id }, select: { email: true, posts: { select: { title: true } } } });
    expect(selected).toEqual({ email: 'canary-shape@example.test', posts: [{ title: 'canary title shape' }] });
    const omitted = await s.db.user.findFirst({ where: { id: user.id }, omit: { id: true, tenantId: true, emailIndex: true } });
    expect(omitted).toEqual({ email: 'canary-shape@example.test', name: 'Canary shape', role: 'member' });
    const many = await s.db.user.findMany({ include: { profile: { omit: { tenantId: true } }, posts: { include: { comments: { select: { body: true } } } } } });
    expect(many[0]!.profile).toEqual({ id: user.profile!.id, bio: 'canary bio shape', userId: user.id });
    expect(many[0]!.posts[0]!.comments).toEqual([{ body: 'canary body shape' }]);
    const orThrow = await s.db.post.findFirstOrThrow({ where: { author: { email: 'canary-shape@example.test' } }, select: { title: true, author: { select: { name: true } } } });
    expect(orThrow).toEqual({ title: 'canary title shape', author: { name: 'Canary shape' } });
  });

  it('fluent relation reads decrypt the related model (to-many, to-one, chained, with args, missing parent)', async () => {
    const user = await seedUser(s.db, 'fluent');
    const posts = await s.db.user.findUnique({ where: { id: user.id } }).posts();
    expect(posts?.map((p) => p.title)).toEqual(['canary title fluent']);
    const titles = await s.db.user.findUnique({ where: { id: user.id } }).posts({ select: { title: true } });
    expect(titles).toEqual([{ title: 'canary title fluent' }]);
    const profile = await s.db.user.findUniqueOrThrow({ where: { id: user.id } }).profile();
    expect(profile?.bio).toBe('canary bio fluent');
    const comments = await s.db.post
      .findFirst({ where: { authorId: user.id } })
      .author()
      .posts({ include: { comments: true } });
    expect(comments?.[0]?.comments[0]?.body).toBe('canary body fluent');
    const author = await s.db.comment
      .findFirst({ where: { tenantId: 'tenant-a' } })
      .post()
      .author();
    expect(author?.email).toBe('canary-fluent@example.test');
    expect(await s.db.user.findUnique({ where: { id: 'missing' } }).posts()).toBeNull();
  });

  it('generates cuid / uuid ids client-side and binds them into the AAD', async () => {
    const user = await seedUser(s.db, 'ids');
    expect(user.id).toMatch(/^c[a-z0-9]{24}$/);
    expect(user.posts[0]!.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const [a, b] = [await seedUser(s.db, 'ids-b'), user];
    const [rawA] = await s.raw.all('SELECT "name" FROM "User" WHERE "id" = ?', [a.id]);
    await s.raw.run('UPDATE "User" SET "name" = ? WHERE "id" = ?', [rawA!.name, b.id]);
    await expect(s.db.user.findUnique({ where: { id: b.id } })).rejects.toMatchObject({ code: 'CIPHERTEXT_TAMPERED' });
  });
});
