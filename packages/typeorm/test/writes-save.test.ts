import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Clinic, Patient, Visit } from './support/entities.js';
import { envelopeDekId, isRecordBound } from './support/helpers.js';
import { KINDS, openStack, type Stack } from './support/stack.js';

describe.each(KINDS)('save() on %s', (kind) => {
  let s: Stack;
  beforeEach(async () => {
    s = await openStack(kind);
  });
  afterEach(async () => {
    await s.close();
  });

  it('encrypts cascaded inserts, binds uuid ids, and leaves plaintext in the caller objects', async () => {
    const visit = Object.assign(new Visit(), { tenantId: 't1', diagnosis: 'CANARY-diagnosis' });
    const patient = Object.assign(new Patient(), { tenantId: 't1', ssn: 'CANARY-ssn', email: 'canary@example.test', visits: [visit] });
    const clinic = await s.dataSource.getRepository(Clinic).save({ tenantId: 't1', name: 'CANARY-clinic', patients: [patient] });
    expect((await s.raw.dump()).toLowerCase()).not.toContain('canary');
    expect([clinic.name, patient.ssn, patient.email, visit.diagnosis]).toEqual(['CANARY-clinic', 'CANARY-ssn', 'canary@example.test', 'CANARY-diagnosis']);
    const [row] = await s.raw.all('SELECT * FROM patient WHERE id = ?', [patient.id]);
    expect(isRecordBound(row!.ssn)).toBe(true);
    const [visitRow] = await s.raw.all('SELECT * FROM visit');
    expect(isRecordBound(visitRow!.diagnosis)).toBe(false);
    const loaded = await s.dataSource.getRepository(Clinic).findOneOrFail({ where: { id: clinic.id }, relations: { patients: { visits: true } } });
    expect(loaded.name).toBe('CANARY-clinic');
    expect(loaded.patients![0]).toMatchObject({ ssn: 'CANARY-ssn', email: 'canary@example.test', visits: [{ diagnosis: 'CANARY-diagnosis' }] });
  });

  it('re-encrypts only the changed field on update and keeps plaintext in the entity', async () => {
    const repo = s.dataSource.getRepository(Patient);
    const saved = await repo.save({ tenantId: 't1', ssn: 'CANARY-1', email: 'one@example.test' });
    const [before] = await s.raw.all('SELECT ssn, email FROM patient');
    const entity = await repo.findOneByOrFail({ id: saved.id });
    entity.ssn = 'CANARY-2';
    entity.note = 'changed';
    await repo.save(entity);
    expect(entity.ssn).toBe('CANARY-2');
    const [after] = await s.raw.all('SELECT ssn, email, note FROM patient');
    expect(after!.email).toBe(before!.email);
    expect(after!.ssn).not.toBe(before!.ssn);
    expect(JSON.stringify(after)).not.toContain('CANARY');
    expect((await repo.findOneByOrFail({ id: saved.id })).ssn).toBe('CANARY-2');
  });

  it('moves every encrypted field to the new segment when a partial save changes the tenant', async () => {
    const repo = s.dataSource.getRepository(Patient);
    const a = await repo.save({ tenantId: 't1', ssn: 'CANARY-move', email: 'move@example.test' });
    const other = await repo.save({ tenantId: 't2', ssn: 'CANARY-other', email: 'other@example.test' });
    const partial = { id: a.id, tenantId: 't2' };
    await repo.save(partial);
    expect(partial).not.toHaveProperty('ssn');
    expect(partial).not.toHaveProperty('email');
    const rows = await s.raw.all('SELECT id, ssn, email FROM patient');
    const t2Dek = envelopeDekId(String(rows.find((r) => r.id === other.id)!.ssn));
    expect(rows.filter((r) => r.id === a.id).flatMap((r) => [envelopeDekId(String(r.ssn)), envelopeDekId(String(r.email))])).toEqual([t2Dek, t2Dek]);
    expect(await repo.findOneByOrFail({ id: a.id })).toMatchObject({ tenantId: 't2', ssn: 'CANARY-move', email: 'move@example.test' });
  });

  it('writes nothing and restores the caller objects when a transaction rolls back', async () => {
    const patient = Object.assign(new Patient(), { tenantId: 't1', ssn: 'CANARY-tx', email: 'tx@example.test' });
    await expect(
      s.dataSource.transaction(async (manager) => {
        await manager.save(patient);
        expect(patient.ssn).toBe('CANARY-tx');
        throw new Error('rollback');
      }),
    ).rejects.toThrow('rollback');
    expect(await s.raw.all('SELECT id FROM patient')).toEqual([]);
    await s.dataSource.getRepository(Patient).save(patient);
    expect((await s.dataSource.getRepository(Patient).findOneByOrFail({ id: patient.id })).ssn).toBe('CANARY-tx');
  });

  it('restores plaintext in the caller object when the INSERT fails', async () => {
    const repo = s.dataSource.getRepository(Patient);
    await repo.save({ tenantId: 't1', ssn: 'CANARY-a', email: 'same@example.test' });
    const duplicate = Object.assign(new Patient(), { tenantId: 't1', ssn: 'CANARY-b', email: 'same@example.test' });
    await expect(repo.save(duplicate)).rejects.toThrow();
    expect([duplicate.ssn, duplicate.email]).toEqual(['CANARY-b', 'same@example.test']);
    expect(await s.raw.all('SELECT id FROM patient')).toHaveLength(1);
  });

  it('remove() deletes encrypted entities and their cascaded children', async () => {
    const repo = s.dataSource.getRepository(Patient);
    const p = await repo.save({ tenantId: 't1', ssn: 'CANARY-rm', email: 'rm@example.test', visits: [{ tenantId: 't1', diagnosis: 'x' } as Visit] });
    const loaded = await repo.findOneOrFail({ where: { id: p.id }, relations: { visits: true } });
    await repo.remove(loaded);
    expect(await s.raw.all('SELECT id FROM patient')).toEqual([]);
    expect(loaded.ssn).toBe('CANARY-rm');
  });

  it('clears the blind index when an encrypted field is set to null', async () => {
    const repo = s.dataSource.getRepository(Patient);
    const p = await repo.save({ tenantId: 't1', ssn: 'CANARY-n', email: 'null@example.test' });
    await repo.save({ ...p, email: null });
    expect(await s.raw.all('SELECT email, "emailIndex" FROM patient')).toEqual([{ email: null, emailIndex: null }]);
    expect(await repo.findOneByOrFail({ id: p.id })).toMatchObject({ ssn: 'CANARY-n', email: null });
  });
});
