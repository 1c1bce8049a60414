import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canaryTag, filesContaining } from '../../testing/src/canary-files.js';
import { STACKS, type Stack } from './support/stacks.js';

const TABLES = ['User', 'Post', 'Comment', 'profiles', 'Patient'];

/**
 * Issue 12: every write path with a canary plaintext, then a search of the raw database files
 * (SQLite file, -wal and -journal; PostgreSQL heap, TOAST, index files and WAL after a
 * CHECKPOINT). A new write path that leaks plaintext fails here.
 */
describe.each(STACKS)('canary sweep on %s', (_name, makeStack) => {
  let s: Stack;
  beforeEach(async () => {
    s = await makeStack();
  });
  afterEach(async () => {
    await s.close();
  });

  it('issue 12: no write path stores the canary plaintext anywhere in the database files', async () => {
    const tag = canaryTag();
    const v = (path: string) => `${tag}-${path}`;
    const mail = (path: string) => `${v(path)}@example.test`.toLowerCase();
    const patient = (path: string, tenantId = 'tenant-a') => ({ tenantId, ssn: v(path), email: mail(path) });
    const user = (path: string) => ({ tenantId: 'tenant-a', email: mail(path), name: v(`${path}-name`) });
    const db = s.db;
    const writes: Record<string, () => Promise<unknown>> = {
      create: () => db.patient.create({ data: patient('create') }),
      createMany: () => db.patient.createMany({ data: [patient('create-many-1'), patient('create-many-2')] }),
      createManyAndReturn: () => db.patient.createManyAndReturn({ data: [patient('cmar')] }),
      nestedCreate: () =>
        db.user.create({
          data: {
            ...user('nested'),
            posts: {
              create: [{ tenantId: 'tenant-a', title: v('post'), comments: { create: { tenantId: 'tenant-a', body: v('comment') } } }],
              createMany: { data: [{ tenantId: 'tenant-a', title: v('post-many') }] },
            },
            profile: { create: { tenantId: 'tenant-a', bio: v('bio') } },
          },
        }),
      connectOrCreate: async () => {
        const u = await db.user.create({ data: user('coc-user') });
        return db.post.create({ data: { tenantId: 'tenant-a', title: v('coc-post'), author: { connectOrCreate: { where: { id: u.id }, create: user('coc-unused') } } } });
      },
      update: async () => {
        const p = await db.patient.create({ data: patient('update') });
        return db.patient.update({ where: { id: p.id }, data: { ssn: v('update-2'), email: { set: mail('update-2') } } });
      },
      updateMoveTenant: async () => {
        const p = await db.patient.create({ data: patient('move') });
        return db.patient.update({ where: { id: p.id }, data: { tenantId: 'tenant-b', ssn: v('move-2'), email: mail('move-2') } });
      },
      upsertCreate: () => db.patient.upsert({ where: { id: 'missing' }, create: patient('upsert-create'), update: { ssn: v('upsert-unused') } }),
      upsertUpdate: async () => {
        const p = await db.patient.create({ data: patient('upsert') });
        return db.patient.upsert({ where: { id: p.id }, create: patient('upsert-unused-2'), update: { ssn: v('upsert-update') } });
      },
      updateMany: () => db.patient.updateMany({ where: { tenantId: 'tenant-a' }, data: { ssn: v('update-many') } }),
      updateManyAndReturn: () => db.patient.updateManyAndReturn({ where: { tenantId: 'tenant-b' }, data: { ssn: v('umar') } }),
      nestedUpdate: async () => {
        const u = await db.user.create({ data: { ...user('nu'), posts: { create: { tenantId: 'tenant-a', title: v('nu-post') } } }, include: { posts: true } });
        return db.user.update({
          where: { id: u.id },
          data: {
            name: v('nu-name-2'),
            posts: {
              update: { where: { id: u.posts[0]!.id }, data: { title: v('nu-post-2') } },
              updateMany: { where: {}, data: { title: v('nu-post-3') } },
              upsert: { where: { id: 'missing' }, create: { tenantId: 'tenant-a', title: v('nu-upsert') }, update: {} },
            },
            profile: { upsert: { create: { tenantId: 'tenant-a', bio: v('nu-bio') }, update: { bio: v('nu-bio-2') } } },
          },
        });
      },
      interactiveTransaction: () =>
        db.$transaction(async (tx) => {
          const p = await tx.patient.create({ data: patient('itx') });
          return tx.patient.update({ where: { id: p.id }, data: { ssn: v('itx-2') } });
        }),
      batchTransaction: () => db.$transaction([db.patient.create({ data: patient('batch-1') }), db.patient.create({ data: patient('batch-2') })]),
      autoincrementModel: async () => {
        const u = await db.user.create({ data: { ...user('ai'), posts: { create: { tenantId: 'tenant-a', title: v('ai-post') } } }, include: { posts: true } });
        return db.comment.create({ data: { tenantId: 'tenant-a', body: v('ai-comment'), postId: u.posts[0]!.id } });
      },
    };
    for (const [name, write] of Object.entries(writes)) await expect(write(), name).resolves.toBeDefined();
    const late = db.$extends({ query: { patient: { create: ({ args, query }) => query({ ...args, data: { ...args.data, ssn: v('late-extension') } }) } } });
    const refused: Record<string, () => Promise<unknown>> = {
      lateExtension: () => late.patient.create({ data: patient('late') }),
      handWrittenIndex: () => db.patient.create({ data: { ...patient('index'), emailIndex: 'bi1.planted' } }),
    };
    for (const [name, write] of Object.entries(refused)) await expect(write(), name).rejects.toMatchObject({ code: expect.stringMatching(/^(CONFIG_INVALID|QUERY_UNSUPPORTED)$/) });
    expect((await db.patient.findMany({ where: { tenantId: 'tenant-a' } })).every((p) => p.ssn.startsWith(tag))).toBe(true);
    for (const table of TABLES) expect(JSON.stringify(await s.raw.all(`SELECT * FROM "${table}"`)).toUpperCase(), table).not.toContain(tag);
    const files = await s.databaseFiles(TABLES);
    expect(files.length).toBeGreaterThan(0);
    expect(filesContaining(files, tag)).toEqual([]);
  });

  it('issue 12: the sweep can fail: a plaintext written around Keystrata is found in the files', async () => {
    const tag = canaryTag();
    await s.base.tag.create({ data: { label: `${tag}-plain` } });
    expect(filesContaining(await s.databaseFiles(['Tag']), tag).length).toBeGreaterThan(0);
  });
});
