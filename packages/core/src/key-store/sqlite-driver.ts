import { AsyncMutex } from './async-mutex.js';
import { importDriver } from './import-driver.js';
import type { SqlDriver, SqlExecutor } from './sql-driver.js';

/**
 * The part of a better-sqlite3 statement the driver uses.
 *
 * @example
 * ```ts
 * const statement: SqliteStatement = new Database(':memory:').prepare('SELECT 1');
 * ```
 */
export interface SqliteStatement {
  all(...params: unknown[]): unknown[];
  run(...params: unknown[]): { changes: number };
}

/**
 * The part of a better-sqlite3 `Database` the driver uses (declared here, so users need no
 * `@types/better-sqlite3`; a real `Database` fits).
 *
 * @example
 * ```ts
 * const database: SqliteDatabase = new Database('app.db');
 * ```
 */
export interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
  pragma(source: string): unknown;
  exec(source: string): unknown;
  readonly inTransaction: boolean;
  close(): unknown;
}

/**
 * Options for {@link createSqliteDriver}.
 *
 * @example
 * ```ts
 * const options: SqliteDriverOptions = { database: new Database('app.db') }; // the application's connection: it closes it
 * const keyStore = new SqlKeyStore(await createSqliteDriver(options)); // { database: 'keys.db' }: the driver opens and closes it
 * ```
 */
export interface SqliteDriverOptions {
  /** A better-sqlite3 database (the caller keeps ownership) or a file path to open. */
  readonly database: SqliteDatabase | string;
}

/**
 * A {@link SqlDriver} over better-sqlite3. Statements are cached; a transaction takes
 * `BEGIN IMMEDIATE` (the cross-process write lock) and holds other callers of this driver back.
 * `secure_delete` is switched on for the connection (also one the application passes in), and the
 * key store checkpoints and truncates the WAL after a destroy (docs/shredding.md).
 *
 * @example
 * ```ts
 * const driver = await createSqliteDriver({ database: 'keys.db' });
 * ```
 */
export async function createSqliteDriver(options: SqliteDriverOptions): Promise<SqlDriver> {
  const owned = typeof options.database === 'string';
  let db: SqliteDatabase;
  if (typeof options.database === 'string') {
    const { default: Database } = await importDriver(() => import('better-sqlite3'), 'better-sqlite3', 'SQLite');
    db = new Database(options.database);
    db.pragma('journal_mode = WAL');
    db.pragma('busy_timeout = 5000');
  } else {
    db = options.database;
  }
  // Freed pages and cells are overwritten with zeros, so an erased wrapped key does not linger in the
  // database file. Per connection: set on the application's connection too (it then costs the same
  // extra writes for the application's deletes, which is also what a shredding application wants).
  db.pragma('secure_delete = ON');
  const statements = new Map<string, SqliteStatement>();
  const prepare = (sql: string): SqliteStatement => {
    let statement = statements.get(sql);
    if (statement === undefined) {
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };
  const direct: SqlExecutor = {
    async all<T>(sql: string, params: readonly unknown[] = []) {
      return prepare(sql).all(...params) as T[];
    },
    async run(sql, params = []) {
      return prepare(sql).run(...params).changes;
    },
  };
  const mutex = new AsyncMutex();
  return {
    dialect: 'sqlite',
    all: (sql, params) => mutex.run(() => direct.all(sql, params)),
    run: (sql, params) => mutex.run(() => direct.run(sql, params)),
    transaction: (fn) =>
      mutex.run(async () => {
        db.exec('BEGIN IMMEDIATE');
        try {
          const result = await fn(direct);
          db.exec('COMMIT');
          return result;
        } catch (error) {
          if (db.inTransaction) db.exec('ROLLBACK');
          throw error;
        }
      }),
    async close() {
      if (owned) db.close();
    },
  };
}
