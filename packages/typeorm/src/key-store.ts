import { createPostgresDriver, createSqliteDriver, KeystrataError, SqlKeyStore } from '@keystrata/core';
import type { DataSource } from 'typeorm';

type PostgresOptions = { url?: string; host?: string; port?: number; username?: string; password?: unknown; database?: string };

function postgresUrl(options: PostgresOptions): string {
  if (options.url) return options.url;
  if (options.password !== undefined && typeof options.password !== 'string') {
    throw new KeystrataError('CONFIG_INVALID', 'The DataSource password is not a string; pass keyStore to installKeystrata.');
  }
  const url = new URL('postgres://localhost');
  url.hostname = options.host ?? 'localhost';
  url.port = String(options.port ?? 5432);
  url.username = encodeURIComponent(options.username ?? '');
  if (options.password) url.password = encodeURIComponent(options.password);
  url.pathname = `/${encodeURIComponent(options.database ?? '')}`;
  return url.toString();
}

/**
 * A core SqlKeyStore in the DataSource's own database (the same SQLite file, or the same
 * PostgreSQL database), on a connection of its own. Supports `better-sqlite3` and `postgres`.
 *
 * @example
 * ```ts
 * const keyStore = await keyStoreFor(dataSource);
 * ```
 */
export async function keyStoreFor(dataSource: DataSource): Promise<SqlKeyStore> {
  const options = dataSource.options as { type: string; database?: unknown };
  if (options.type === 'better-sqlite3') {
    if (typeof options.database !== 'string' || options.database === '' || options.database === ':memory:') {
      throw new KeystrataError('CONFIG_INVALID', 'An in-memory SQLite database cannot share its keys; use a file or pass keyStore.');
    }
    return new SqlKeyStore(await createSqliteDriver({ database: options.database }));
  }
  if (options.type === 'postgres') return new SqlKeyStore(await createPostgresDriver({ database: postgresUrl(options as PostgresOptions) }));
  throw new KeystrataError('CONFIG_INVALID', `No built-in key store for DataSource type "${options.type}"; pass keyStore to installKeystrata.`);
}
