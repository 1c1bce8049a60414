import type { AdapterState } from '../state.js';

/**
 * Makes sure each segment has a DEK (creating missing ones in the key store) before a write
 * transaction starts. SQLite has a single writer: the key store, on its own connection, cannot
 * create a DEK while the application's connection holds the write lock.
 *
 * @example
 * ```ts
 * await prepareSegments(state, ['tenantId:acme']);
 * ```
 */
export async function prepareSegments(state: AdapterState, segments: readonly string[]): Promise<void> {
  const unique = [...new Set(segments)];
  if (unique.length === 0) return;
  await state.records.hierarchy.encryptValues(unique.map((segment) => ({ value: '', context: { model: 'keystrata', field: 'prepare', segment, keyring: state.keyring } })));
}

/**
 * Whether the DataSource is SQLite (one writer at a time across connections).
 *
 * @example
 * ```ts
 * if (isSqlite(state)) await prepareSegments(state, segments);
 * ```
 */
export function isSqlite(state: AdapterState): boolean {
  return ['better-sqlite3', 'sqlite', 'sqljs', 'capacitor', 'cordova', 'expo', 'react-native'].includes(state.dataSource.options.type);
}
