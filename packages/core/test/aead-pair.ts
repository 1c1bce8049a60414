import { KeyHierarchy } from '../src/hierarchy/key-hierarchy.js';
import { MemoryKeyStore } from '../src/key-store/memory-key-store.js';
import { SoftwareRootKey } from '../src/root-key/software-root-key.js';

/** The two AEAD paths every value-path test runs on. */
export const PATHS = ['native', 'node:crypto'] as const;
type Path = (typeof PATHS)[number];

/** Two hierarchies over the same keys, one on each AEAD path, closed after `run`. */
export async function pair<T>(run: (h: Record<Path, KeyHierarchy>) => Promise<T>): Promise<T> {
  const rootKey = new SoftwareRootKey();
  const keyStore = new MemoryKeyStore();
  const native = await KeyHierarchy.create({ rootKey, keyStore, aead: 'native' });
  await native.provision();
  const node = await KeyHierarchy.create({ rootKey, keyStore, aead: 'node:crypto' });
  try {
    return await run({ native, 'node:crypto': node });
  } finally {
    await native.close();
    await node.close();
  }
}
