import { describe, expect, it } from 'vitest';
import { MemoryKeyStore } from '../key-store/memory-key-store.js';
import { SoftwareRootKey } from '../root-key/software-root-key.js';
import { KeyHierarchy } from './key-hierarchy.js';

describe('hierarchy status', () => {
  it('issue 13 §1: the blind-index key (segment __keystrata/blind-index) is not counted among DEKs; it is shown apart', async () => {
    const keyStore = new MemoryKeyStore();
    const h = await KeyHierarchy.create({ rootKey: new SoftwareRootKey(), keyStore });
    await h.provision();
    await h.provision('north');
    await h.encryptValue('a', { model: 'Patient', field: 'ssn', recordId: '1', segment: 'tenantId:acme' });
    await h.encryptValue('b', { model: 'Patient', field: 'ssn', recordId: '2', segment: 'tenantId:zen' });
    await h.blindIndex('ann@example.com', { model: 'Patient', field: 'email' });
    expect((await keyStore.countDeks()).filter((c) => c.keyring === 'default')).toEqual([{ keyring: 'default', state: 'primary', count: 3 }]);
    const status = await h.status();
    const [defaults, north] = status.keyrings;
    expect(defaults).toMatchObject({ keyring: 'default', deks: { primary: 2 }, blindIndexKeys: { primary: 1 } });
    expect(north).toMatchObject({ keyring: 'north', deks: {}, blindIndexKeys: {} });
    await h.close();
  });
});
