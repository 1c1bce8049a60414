/** Runs statements with `?` placeholders. */
export interface SqlExecutor {
  all<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Returns the number of rows changed. */
  run(sql: string, params?: readonly unknown[]): Promise<number>;
}

/**
 * The few things the SQL key store needs from a database. Implementations: {@link createSqliteDriver}
 * (better-sqlite3) and {@link createPostgresDriver} (pg).
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
