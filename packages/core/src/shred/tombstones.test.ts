import { describe, expect, it } from 'vitest';
import type { KeyStore } from '../key-store/key-store.js';
import { MemoryKeyStore } from '../key-store/memory-key-store.js';
import { SqlKeyStore } from '../key-store/sql-key-store.js';
import { createSqliteDriver } from '../key-store/sqlite-driver.js';

const stores: Array<[string, () => Promise<KeyStore>]> = [
  ['MemoryKeyStore', async () => new MemoryKeyStore()],
  ['SqlKeyStore on SQLite', async () => new SqlKeyStore(await createSqliteDriver({ database: ':memory:' }))],
];

describe.each(stores)('tombstones in %s', (_, open) => {
  it('issue 11 §1: a tombstone is kept once per key (the first destruction wins), listed by keyring, marked durable up to a cutoff', async () => {
    const store = await open();
    await store.migrate();
    await store.putTombstone({ kind: 'dek', id: 'a', keyring: 'k1', segment: 's1', destroyedAt: '2026-01-01T00:00:00.000Z', durableAt: null });
    await store.putTombstone({ kind: 'dek', id: 'a', keyring: 'k1', segment: 's1', destroyedAt: '2026-02-01T00:00:00.000Z', durableAt: null });
    await store.putTombstone({ kind: 'dek', id: 'b', keyring: 'k1', segment: 's2', destroyedAt: '2026-03-01T00:00:00.000Z', durableAt: null });
    await store.putTombstone({ kind: 'kek', id: '1', keyring: 'k2', segment: '', destroyedAt: '2026-01-01T00:00:00.000Z', durableAt: null });
    await store.putTombstone({ kind: 'cmk', id: '1', keyring: 'k1', segment: '', destroyedAt: '2026-01-02T00:00:00.000Z', durableAt: '2026-01-02T00:00:00.000Z' });
    expect((await store.listTombstones('k1')).map((t) => [t.kind, t.id, t.destroyedAt])).toEqual([
      ['dek', 'a', '2026-01-01T00:00:00.000Z'],
      ['cmk', '1', '2026-01-02T00:00:00.000Z'],
      ['dek', 'b', '2026-03-01T00:00:00.000Z'],
    ]);
    expect(await store.markTombstonesDurable('k1', '2026-02-15T00:00:00.000Z', '2026-04-01T00:00:00.000Z')).toBe(1);
    expect((await store.listTombstones()).map((t) => [t.keyring, t.kind, t.id, t.durableAt])).toEqual([
      ['k1', 'dek', 'a', '2026-04-01T00:00:00.000Z'],
      ['k2', 'kek', '1', null],
      ['k1', 'cmk', '1', '2026-01-02T00:00:00.000Z'],
      ['k1', 'dek', 'b', null],
    ]);
    expect(await store.purgeErased('quick')).toEqual(expect.any(String));
    await store.close();
  });
});
