import { inspect } from 'node:util';
import { UnreadableValue } from '@keystrata/core';
import { Like } from 'typeorm';
import { afterEach, describe, expect, it } from 'vitest';
import { Patient } from './support/entities.js';
import { breakHsm, codeOf } from './support/helpers.js';
import { KINDS, openStack, type Stack } from './support/stack.js';

describe.each(KINDS)('fail closed on %s', (kind) => {
  let s: Stack;
  const repo = () => s.dataSource.getRepository(Patient);
  afterEach(async () => {
    await s.close();
  });

  it('refuses plaintext writes with listeners off; ciphertext may pass but never decrypts elsewhere', async () => {
    s = await openStack(kind);
    const entity = Object.assign(new Patient(), { tenantId: 't1', ssn: 'CANARY-off', email: 'off@example.test' });
    expect(await codeOf(repo().save(entity, { listeners: false }))).toBe('PLAINTEXT_REJECTED');
    expect(entity.ssn).toBe('CANARY-off');
    const qb = () => s.dataSource.createQueryBuilder().insert().into(Patient).callListeners(false);
    expect(await codeOf(qb().values({ tenantId: 't1', ssn: 'CANARY-off' }).execute())).toBe('PLAINTEXT_REJECTED');
    const a = await repo().save({ tenantId: 't1', ssn: 'CANARY-a', email: 'a@example.test' });
    expect(await codeOf(s.dataSource.createQueryBuilder().update(Patient).set({ ssn: 'CANARY-off' }).callListeners(false).whereInIds(a.id).execute())).toBe('PLAINTEXT_REJECTED');
    expect((await s.raw.dump()).toLowerCase()).not.toContain('canary-off');
    const fromSelect = (columns?: string[]) =>
      s.dataSource
        .createQueryBuilder()
        .insert()
        .into(Patient, columns)
        .valuesFromSelect((q) => q.select(["'t1'", "'CANARY-sel'"]).fromDummy())
        .execute();
    expect(await codeOf(fromSelect())).toBe('QUERY_UNSUPPORTED');
    expect(await codeOf(fromSelect(['tenantId', 'ssn']))).toBe('QUERY_UNSUPPORTED');
    expect((await s.raw.dump()).toLowerCase()).not.toContain('canary-sel');
    const [stored] = await s.raw.all('SELECT ssn FROM patient');
    const copy = await qb()
      .values({ tenantId: 't1', ssn: stored!.ssn as string })
      .execute();
    expect(await codeOf(repo().findOneByOrFail({ id: copy.identifiers[0]!.id as string }))).toBe('CIPHERTEXT_TAMPERED');
  });

  it('refuses entity reads with callListeners(false) that would return ciphertext', async () => {
    s = await openStack(kind);
    await repo().save({ tenantId: 't1', ssn: 'CANARY-r', email: 'r@example.test' });
    expect(await codeOf(repo().createQueryBuilder('p').callListeners(false).getMany())).toBe('QUERY_UNSUPPORTED');
    expect(await repo().createQueryBuilder('p').select(['p.id', 'p.tenantId']).callListeners(false).getMany()).toHaveLength(1);
  });

  it('with the HSM unreachable every write path throws HSM_UNAVAILABLE and writes nothing; reads throw', async () => {
    s = await openStack(kind);
    const a = await repo().save({ tenantId: 't1', ssn: 'CANARY-h', email: 'h@example.test' });
    await breakHsm(s);
    const before = await s.raw.dump();
    const fresh = () => ({ tenantId: 't1', ssn: 'CANARY-new', email: 'new@example.test' });
    const writes: Record<string, () => Promise<unknown>> = {
      saveInsert: () => repo().save(fresh()),
      saveUpdate: () => repo().save({ ...a, ssn: 'CANARY-new' }),
      insert: () => repo().insert(fresh()),
      upsert: () => repo().upsert(fresh(), ['emailIndex']),
      qbInsert: () => s.dataSource.createQueryBuilder().insert().into(Patient).values(fresh()).execute(),
      update: () => repo().update(a.id, { ssn: 'CANARY-new' }),
      qbUpdate: () => s.dataSource.createQueryBuilder().update(Patient).set({ ssn: 'CANARY-new' }).whereInIds(a.id).execute(),
    };
    for (const [name, write] of Object.entries(writes)) expect(await codeOf(write()), name).toBe('HSM_UNAVAILABLE');
    expect(await s.raw.dump()).toBe(before);
    expect(await codeOf(repo().findOneBy({ id: a.id }))).toBe('HSM_UNAVAILABLE');
  });

  it('with a revoked segment reads and writes of it throw KEY_DISABLED; other segments work', async () => {
    s = await openStack(kind);
    const a = await repo().save({ tenantId: 't1', ssn: 'CANARY-k1', email: 'k1@example.test' });
    const b = await repo().save({ tenantId: 't2', ssn: 'CANARY-k2', email: 'k2@example.test' });
    await s.keystrata.hierarchy.disable({ kind: 'segment', segment: 'tenantId:t1' });
    const [t1, t2] = await Promise.allSettled([repo().findOneByOrFail({ id: a.id }), repo().findOneByOrFail({ id: b.id })]);
    expect(t1.status === 'rejected' && (t1.reason as { code: string }).code).toBe('KEY_DISABLED');
    expect(t2.status === 'fulfilled' && t2.value.ssn).toBe('CANARY-k2');
    expect(await codeOf(repo().find())).toBe('KEY_DISABLED');
    const count = (await s.raw.all('SELECT id FROM patient')).length;
    expect(await codeOf(repo().insert({ tenantId: 't1', ssn: 'CANARY-k3', email: 'k3@example.test' }))).toBe('KEY_DISABLED');
    expect((await s.raw.all('SELECT id FROM patient')).length).toBe(count);
  });

  it('keeps plaintext out of error messages', async () => {
    s = await openStack(kind);
    const a = await repo().save({ tenantId: 't1', ssn: 'CANARY-e', email: 'e@example.test' });
    const errors = await Promise.all(
      [
        repo().save({ tenantId: 't1', ssn: 'CANARY-e2', email: 'CANARY@example.test' }, { listeners: false }),
        repo().findBy({ ssn: 'CANARY-e' }),
        repo().findBy({ email: Like('%CANARY%') }),
        repo().update(a.id, { ssn: (() => "'CANARY-sql'") as never }),
        repo().insert({ tenantId: undefined as never, ssn: 'CANARY-no-tenant' }),
      ].map((p) =>
        p.then(
          () => undefined,
          (e: unknown) => e,
        ),
      ),
    );
    for (const error of errors) {
      expect(error).toBeDefined();
      expect(`${String(error)} ${inspect(error)} ${JSON.stringify(error)}`).not.toContain('CANARY');
    }
  });

  it('never passes a stored non-envelope off as plaintext', async () => {
    s = await openStack(kind);
    const a = await repo().save({ tenantId: 't1', ssn: 'CANARY-p', email: 'p@example.test' });
    await s.raw.run('UPDATE patient SET ssn = ? WHERE id = ?', ['plaintext-in-the-column', a.id]);
    expect(await codeOf(repo().findOneBy({ id: a.id }))).toBe('CIPHERTEXT_MALFORMED');
  });

  it("with onUnreadable: 'placeholder' loads UnreadableValue, never writes it, and refuses to move it", async () => {
    s = await openStack(kind, { onUnreadable: 'placeholder' });
    const a = await repo().save({ tenantId: 't1', ssn: 'CANARY-u', email: 'u@example.test' });
    const [stored] = await s.raw.all('SELECT ssn FROM patient');
    await s.keystrata.hierarchy.disable({ kind: 'segment', segment: 'tenantId:t1' });
    const loaded = await repo().findOneByOrFail({ id: a.id });
    expect(UnreadableValue.isInstance(loaded.ssn) && loaded.ssn.code).toBe('KEY_DISABLED');
    loaded.note = 'still editable';
    await repo().save(loaded);
    expect(await s.raw.all('SELECT ssn, note FROM patient')).toEqual([{ ssn: stored!.ssn, note: 'still editable' }]);
    expect(await codeOf(repo().save({ ...loaded, tenantId: 't2' }))).toBe('PLAINTEXT_REJECTED');
    expect(await codeOf(repo().insert({ tenantId: 't2', ssn: loaded.ssn }))).toBe('PLAINTEXT_REJECTED');
  });
});
