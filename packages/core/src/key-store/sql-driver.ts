/**
 * Runs statements with `?` placeholders.
 *
 * @example
 * ```ts
 * async function keystrataTables(sql: SqlExecutor): Promise<string[]> {
 *   const rows = await sql.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE ?", ['keystrata%']);
 *   return rows.map((row) => row.name);
 * }
 * await keystrataTables(await createSqliteDriver({ database: 'keys.db' })); // ['keystrata_cmk', 'keystrata_kek', …]
 * ```
 */
export interface SqlExecutor {
  all<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Returns the number of rows changed. */
  run(sql: string, params?: readonly unknown[]): Promise<number>;
}

/**
 * The few things the SQL key store needs from a database. Implementations: {@link createSqliteDriver}
 * (better-sqlite3) and {@link createPostgresDriver} (pg).
 *
 * @example
 * ```ts
 * class NodeSqliteDriver implements SqlDriver {
 *   readonly dialect = 'sqlite';
 *   async all<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> { … }
 *   async run(sql: string, params: readonly unknown[] = []): Promise<number> { … } // rows changed
 *   async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> { … } // BEGIN IMMEDIATE; other calls wait
 *   async close(): Promise<void> { … }
 * }
 * const keyStore = new SqlKeyStore(new NodeSqliteDriver(database));
 * ```
 */
export interface SqlDriver extends SqlExecutor {
  readonly dialect: 'sqlite' | 'postgres';
  /** Runs `fn` in a transaction that holds the database's write lock for the key store. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /**
   * PostgreSQL: `LISTEN channel` on a dedicated connection (not one of the pool's), reconnecting by
   * itself after a loss, never keeping the process alive, closed with the driver. `onNotification`
   * receives the payload and the listening connection's `current_schema()`. Absent on SQLite.
   */
  listen?(channel: string, handlers: { onReady(): void; onNotification(payload: string, schema: string): void; onLost(): void }): { close(): Promise<void> };
}
