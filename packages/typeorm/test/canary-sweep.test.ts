import { afterEach, describe, expect, it } from 'vitest';
import { canaryTag, filesContaining, postgresFiles, sqliteFiles } from '../../testing/src/canary-files.js';
import { Clinic, Patient, Visit } from './support/entities.js';
import { KINDS, openStack, type Stack } from './support/stack.js';

/**
 * Issue 12: every write path with a canary plaintext, then a search of the raw database files
 * (SQLite file, -wal and -journal; PostgreSQL heap, TOAST, index files and WAL after a
 * CHECKPOINT). A new write path that leaks plaintext fails here.
 */
describe.each(KINDS)('canary sweep on %s', (kind) => {
  let s: Stack;
  afterEach(async () => {
    await s.close();
  });

  it('issue 12: no write path stores the canary plaintext anywhere in the database files', async () => {
    s = await openStack(kind);
    const tag = canaryTag();
    const v = (path: string) => `${tag}-${path}`;
    const repo = s.dataSource.getRepository(Patient);
    const fresh = (path: string) => ({ tenantId: 't1', ssn: v(path), email: `${v(path)}@example.test`.toLowerCase() });
    const writes: Record<string, () => Promise<unknown>> = {
      saveNew: () => repo.save(fresh('save-new')),
      saveMany: () => repo.save([fresh('save-many-1'), fresh('save-many-2')]),
      saveChunked: () => repo.save([fresh('save-chunk-1'), fresh('save-chunk-2')], { chunk: 1 }),
      saveLoaded: async () => {
        const p = await repo.save(fresh('save-loaded'));
        const loaded = await repo.findOneByOrFail({ id: p.id });
        loaded.ssn = v('save-loaded-2');
        return repo.save(loaded);
      },
      saveMoveTenant: async () => {
        const p = await repo.save(fresh('save-move'));
        const loaded = await repo.findOneByOrFail({ id: p.id });
        loaded.tenantId = 't2';
        return repo.save(loaded);
      },
      saveCascade: () => s.dataSource.getRepository(Clinic).save({ tenantId: 't1', name: v('clinic'), patients: [fresh('cascade') as Patient] }),
      saveIntId: () => s.dataSource.getRepository(Visit).save({ tenantId: 't1', diagnosis: v('visit') }),
      createSave: () => repo.save(repo.create(fresh('create-save'))),
      insert: () => repo.insert(fresh('insert')),
      insertMany: () => repo.insert([fresh('insert-many-1'), fresh('insert-many-2')]),
      upsert: () => repo.upsert(fresh('upsert'), ['emailIndex']),
      qbInsert: () => s.dataSource.createQueryBuilder().insert().into(Patient).values(fresh('qb-insert')).execute(),
      qbInsertColumns: () => s.dataSource.createQueryBuilder().insert().into(Patient, ['tenantId', 'ssn', 'email']).values(fresh('qb-insert-columns')).execute(),
      update: async () => {
        const p = await repo.save(fresh('update'));
        return repo.update(p.id, { ssn: v('update-2'), email: `${v('update-2')}@example.test`.toLowerCase() });
      },
      updateCriteria: () => repo.update({ tenantId: 't1' }, { ssn: v('update-criteria') }),
      qbUpdate: () =>
        s.dataSource
          .createQueryBuilder()
          .update(Patient)
          .set({ ssn: v('qb-update') })
          .where({ tenantId: 't2' })
          .execute(),
      transaction: () =>
        s.dataSource.transaction(async (manager) => {
          await manager.save(Patient, fresh('tx-save'));
          await manager.insert(Patient, fresh('tx-insert'));
          return manager.update(Patient, { tenantId: 't1' }, { ssn: v('tx-update') });
        }),
    };
    for (const [name, write] of Object.entries(writes)) await expect(write(), name).resolves.toBeDefined();
    expect((await repo.find()).some((p) => p.ssn === v('tx-update'))).toBe(true);
    const dump = (await s.raw.dump()).toUpperCase();
    expect(dump).not.toContain(tag);
    const options = s.dataSource.options as { database?: string; url?: string };
    const files = kind === 'sqlite' ? sqliteFiles(options.database!) : await postgresFiles(options.url!, ['patient', 'clinic', 'visit']);
    expect(files.length).toBeGreaterThan(kind === 'sqlite' ? 0 : 3);
    expect(filesContaining(files, tag)).toEqual([]);
  });

  it('issue 12: the sweep can fail: a plaintext written around Keystrata is found in the files', async () => {
    s = await openStack(kind);
    const tag = canaryTag();
    await s.raw.run('INSERT INTO memo (body) VALUES (?)', [`${tag}-plain`]);
    const options = s.dataSource.options as { database?: string; url?: string };
    const files = kind === 'sqlite' ? sqliteFiles(options.database!) : await postgresFiles(options.url!, ['memo']);
    expect(filesContaining(files, tag).length).toBeGreaterThan(0);
  });
});
