import { KeyHierarchy } from '@keystrata/core';
import { RecordEncryptor, type RecordValues } from '@keystrata/core/adapter';
import { MemoryKeyStore, SoftwareRootKey } from '@keystrata/core/testing';
import type { EntityMetadata } from 'typeorm';
import { afterAll, describe, expect, it } from 'vitest';
import type { EntityInfo } from '../entity/entity-info.js';
import type { AdapterState } from '../state.js';
import { refuseIndexWrites } from './index-columns.js';
import { sealTargets } from './seal.js';
import { isSealed, restore } from './stash.js';
import { insertTarget } from './targets.js';

const hierarchy = await KeyHierarchy.create({ rootKey: new SoftwareRootKey(), keyStore: new MemoryKeyStore() });
await hierarchy.provision();
afterAll(() => hierarchy.close());
const segment = { by: 'tenant', field: 'tenantId' } as const;
const fields = [{ field: 'ssn' }, { field: 'email', index: 'emailIndex' }];
const info: EntityInfo = { model: 'Patient', metadata: {} as EntityMetadata, fields, idField: 'id', uuid: true };

/** The adapter state around a real RecordEncryptor whose sealRecords calls are recorded. */
function stateWithRecordedCalls(): { state: AdapterState; calls: Array<readonly RecordValues[]> } {
  const calls: Array<readonly RecordValues[]> = [];
  const records = new RecordEncryptor({ hierarchy, models: { Patient: { fields } }, segment });
  const sealRecords = records.sealRecords.bind(records);
  records.sealRecords = (model, batch) => {
    calls.push(batch);
    return sealRecords(model, batch);
  };
  const state = { records, segment, keyring: undefined, keyringOf: () => 'default', bindRecordId: true, generateUuids: true, infos: new Map() } as unknown as AdapterState;
  return { state, calls };
}

describe('sealTargets', () => {
  it('issue 16 §adapters: hands its targets to the core as they are (no copy per row), then writes envelopes and blind indexes into the rows', async () => {
    const { state, calls } = stateWithRecordedCalls();
    const rows = Array.from({ length: 3 }, (_, i) => ({ tenantId: 't1', ssn: `ssn-${i}`, email: `p${i}@example.org` }) as Record<string, unknown>);
    const targets = rows.map((row) => insertTarget(state, info, row, true));
    await sealTargets(state, info, targets);
    expect(calls).toHaveLength(1);
    for (let i = 0; i < targets.length; i++) expect(calls[0]![i]).toBe(targets[i]);
    for (const row of rows) {
      expect(row.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(String(row.ssn)).toMatch(/^ks1\./);
      expect(String(row.email)).toMatch(/^ks1\./);
      expect(String(row.emailIndex)).toMatch(/^bi1\./);
      expect(isSealed(row)).toBe(true);
    }
  });

  it('issue 16 §adapters: one marks entry per row: restore puts the plaintext back and keeps the written blind index accepted, a changed one refused', async () => {
    const { state } = stateWithRecordedCalls();
    const row: Record<string, unknown> = { tenantId: 't1', ssn: '123-45-6789', email: 'a@example.org' };
    await sealTargets(state, info, [insertTarget(state, info, row, true)]);
    const written = row.emailIndex;
    // The marks are a non-enumerable own symbol: nothing the ORM or a spread copies.
    expect(Object.keys(row).sort()).toEqual(['email', 'emailIndex', 'id', 'ssn', 'tenantId']);
    expect(Object.getOwnPropertySymbols({ ...row })).toEqual([]);
    restore(row);
    expect(isSealed(row)).toBe(false);
    expect(row.ssn).toBe('123-45-6789');
    expect(row.email).toBe('a@example.org');
    expect(row.emailIndex).toBe(written);
    expect(() => refuseIndexWrites(info, row)).not.toThrow();
    row.emailIndex = 'bi1.copied-from-another-record';
    expect(() => refuseIndexWrites(info, row)).toThrow(expect.objectContaining({ code: 'QUERY_UNSUPPORTED' }));
  });
});
