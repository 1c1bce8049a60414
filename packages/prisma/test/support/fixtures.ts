import type { Db } from './stacks.js';

/** Creates a user with a post (with a comment) and a profile, all canary-valued, through `db`. */
export async function seedUser(db: Db, tag: string, tenantId = 'tenant-a') {
  return db.user.create({
    data: {
      tenantId,
      email: `canary-${tag}@example.test`,
      name: `Canary ${tag}`,
      posts: { create: [{ tenantId, title: `canary title ${tag}`, comments: { create: { tenantId, body: `canary body ${tag}` } } }] },
      profile: { create: { tenantId, bio: `canary bio ${tag}` } },
    },
    include: { posts: { include: { comments: true } }, profile: true },
  });
}
