import Database from 'better-sqlite3';
import pg from 'pg';

/** A test database read and written with its driver, bypassing every adapter (`?` placeholders on both). */
export interface RawDb {
  all(sql: string, params?: readonly unknown[]): Promise<Array<Record<string, unknown>>>;
  run(sql: string, params?: readonly unknown[]): Promise<void>;
  close(): Promise<void>;
}

/** better-sqlite3 on a SQLite file. */
export function sqliteRaw(file: string): RawDb {
  const db = new Database(file);
  db.pragma('busy_timeout = 5000');
  return {
    all: async (sql, params = []) => db.prepare(sql).all(...params) as Array<Record<string, unknown>>,
    run: async (sql, params = []) => void db.prepare(sql).run(...params),
    close: async () => void db.close(),
  };
}

/** pg on a PostgreSQL database. */
export async function postgresRaw(url: string): Promise<RawDb> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const numbered = (sql: string) => {
    let n = 0;
    return sql.replace(/\?/g, () => `$${++n}`);
  };
  return {
    all: async (sql, params = []) => (await client.query(numbered(sql), [...params])).rows as Array<Record<string, unknown>>,
    run: async (sql, params = []) => void (await client.query(numbered(sql), [...params])),
    close: () => client.end(),
  };
}
