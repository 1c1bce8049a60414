import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { codeOf } from './support/canary.js';
import { seedUser } from './support/fixtures.js';
import { STACKS, type Db, type Stack } from './support/stacks.js';

const refused = (db: Db): Record<string, () => Promise<unknown>> => ({
  contains: () => db.patient.findMany({ where: { email: { contains: 'canary' } } }),
  startsWith: () => db.patient.findFirst({ where: { email: { startsWith: 'c' } } }),
  lt: () => db.patient.findMany({ where: { ssn: { lt: 'Z' } } }),
  notValue: () => db.patient.findMany({ where: { email: { not: 'x@example.test' } } }),
  insensitive: () => db.patient.findMany({ where: { email: { equals: 'X', mode: 'insensitive' } as never } }),
  noIndex: () => db.patient.findMany({ where: { ssn: 'CANARY-1' } }),
  nestedNoIndex: () => db.user.findMany({ where: { posts: { some: { title: 'x' } } } }),
  orderBy: () => db.patient.findMany({ orderBy: { email: 'asc' } }),
  orderByRelation: () => db.post.findMany({ orderBy: { author: { name: 'desc' } } }),
  orderByInclude: () => db.user.findMany({ include: { posts: { orderBy: { title: 'asc' } } } }),
  distinct: () => db.patient.findMany({ distinct: ['ssn'] }),
  groupBy: () => db.patient.groupBy({ by: ['email'] }),
  having: () => db.patient.groupBy({ by: ['tenantId'], having: { ssn: { _count: { gt: 1 } } } }),
  aggregateMax: () => db.patient.aggregate({ _max: { ssn: true } }),
  groupByMin: () => db.patient.groupBy({ by: ['tenantId'], _min: { email: true } }),
  countWhere: () => db.patient.count({ where: { ssn: { endsWith: '1' } } }),
  deleteMany: () => db.patient.deleteMany({ where: { email: { contains: '@' } } }),
  updateMany: () => db.patient.updateMany({ where: { ssn: { gte: 'A' } }, data: { note: 'x' } }),
});

describe.each(STACKS)('filters on %s', (_name, makeStack) => {
  let s: Stack;
  beforeEach(async () => {
    s = await makeStack();
    await s.db.patient.createMany({ data: [1, 2, 3].map((n) => ({ tenantId: n === 3 ? 'tenant-b' : 'tenant-a', ssn: `CANARY-${n}`, email: `canary-${n}@example.test`, note: n === 1 ? null : 'n' })) });
  });
  afterEach(async () => {
    await s.close();
  });

  it('equality, equals and in on a marked field go through its blind index', async () => {
    const ssnOf = (rows: Array<{ ssn: string }>) => rows.map((r) => r.ssn).sort();
    expect(ssnOf(await s.db.patient.findMany({ where: { email: 'canary-1@example.test' } }))).toEqual(['CANARY-1']);
    expect(ssnOf(await s.db.patient.findMany({ where: { email: { equals: 'canary-2@example.test' } } }))).toEqual(['CANARY-2']);
    expect(ssnOf(await s.db.patient.findMany({ where: { email: { in: ['canary-1@example.test', 'canary-3@example.test', 'nobody@example.test'] } } }))).toEqual(['CANARY-1', 'CANARY-3']);
    expect(ssnOf(await s.db.patient.findMany({ where: { OR: [{ email: 'canary-1@example.test' }, { NOT: { email: { in: ['canary-1@example.test', 'canary-2@example.test'] } } }] } }))).toEqual([
      'CANARY-1',
      'CANARY-3',
    ]);
    expect(await s.db.patient.count({ where: { email: 'canary-2@example.test', tenantId: 'tenant-a' } })).toBe(1);
    expect(await s.db.patient.findMany({ where: { email: 'CANARY-1@example.test' } })).toEqual([]);
  });

  it('filters through relations and keeps null checks on ciphertext columns', async () => {
    const user = await seedUser(s.db, 'rel');
    await s.db.user.create({ data: { tenantId: 'tenant-a', email: 'canary-nameless@example.test' } });
    expect((await s.db.post.findMany({ where: { author: { email: 'canary-rel@example.test' } } })).map((p) => p.id)).toEqual([user.posts[0]!.id]);
    expect((await s.db.post.findMany({ where: { author: { is: { email: { in: ['canary-rel@example.test'] } } } } })).length).toBe(1);
    expect((await s.db.user.findMany({ where: { name: null } })).map((u) => u.email)).toEqual(['canary-nameless@example.test']);
    expect((await s.db.user.findMany({ where: { name: { not: null } }, include: { posts: { where: { author: { email: 'canary-rel@example.test' } } } } }))[0]!.posts.length).toBe(1);
    expect(await s.db.user.count({ where: { posts: { some: { author: { email: 'canary-rel@example.test' } } } } })).toBe(1);
    expect(await s.db.patient.aggregate({ _count: { ssn: true }, where: { email: { in: ['canary-1@example.test'] } } })).toEqual({ _count: { ssn: 1 } });
  });

  it('refuses every query that cannot run on ciphertext with QUERY_UNSUPPORTED', async () => {
    for (const [name, query] of Object.entries(refused(s.db))) expect(await codeOf(query()), name).toBe('QUERY_UNSUPPORTED');
    expect(await s.db.patient.count()).toBe(3);
    await expect(s.db.patient.findMany({ where: { email: { contains: 'canary' } } })).rejects.toThrow(/Patient\.email is encrypted: the "contains" filter/);
  });
});
