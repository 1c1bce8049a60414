import type { AdapterState } from '../state.js';

/**
 * Makes sure each segment has a DEK (creating missing ones in the key store) before a write
 * transaction starts. SQLite has a single writer: the key store, on its own connection, cannot
 * create a DEK while the application's connection holds the write lock.
 *
 * @example
 * ```ts
 * await prepareSegments(state, ['tenantId:acme', { segment: 'tenantId:east', keyring: 'clinic-east' }]);
 * ```
 */
export async function prepareSegments(state: AdapterState, segments: ReadonlyArray<string | { readonly segment: string; readonly keyring?: string | undefined }>): Promise<void> {
  const byKeyring = new Map<string | undefined, string[]>();
  for (const entry of segments) {
    const { segment, keyring = state.keyring } = typeof entry === 'string' ? { segment: entry } : entry;
    byKeyring.set(keyring, [...(byKeyring.get(keyring) ?? []), segment]);
  }
  for (const [keyring, list] of byKeyring) await state.records.hierarchy.prepareSegments(list, keyring === undefined ? {} : { keyring });
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
