import { describePolicies } from '../../test/policy-behaviour.js';
import { MemoryKeyStore } from '../key-store/memory-key-store.js';
import { SoftwareRootKey } from '../root-key/software-root-key.js';

describePolicies('a software root and an in-memory store (unit)', async () => {
  const rootKey = new SoftwareRootKey();
  return { rootKey, keyStore: new MemoryKeyStore(), freshKeyStore: async () => new MemoryKeyStore(), editAuditRow: async () => undefined, close: () => rootKey.close() };
});
