import Database from 'better-sqlite3';
import pg from 'pg';

/** The database read and written with its driver, bypassing TypeORM and Keystrata. */
export interface RawDb {
  all(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  run(sql: string, params?: unknown[]): Promise<void>;
  /** Every row of every table, as JSON (to look for plaintext canaries). */
  dump(): Promise<string>;
  close(): Promise<void>;
}

/** Opens the driver on a SQLite file or a PostgreSQL database; `?` placeholders work for both. */
export async function openRawDb(db: { type: 'better-sqlite3'; database: string } | { type: 'postgres'; url: string }): Promise<RawDb> {
  if (db.type === 'better-sqlite3') {
    const sqlite = new Database(db.database);
    const all = async (sql: string, params: unknown[] = []) => sqlite.prepare(sql).all(...params) as Record<string, unknown>[];
    return {
      all,
      async run(sql, params = []) {
        sqlite.prepare(sql).run(...params);
      },
      async dump() {
        const tables = await all(`SELECT name FROM sqlite_master WHERE type = 'table'`);
        return JSON.stringify(await Promise.all(tables.map((t) => all(`SELECT * FROM "${String(t.name)}"`))));
      },
      async close() {
        sqlite.close();
      },
    };
  }
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const numbered = (sql: string) => {
    let n = 0;
    return sql.replace(/\?/g, () => `$${++n}`);
  };
  const all = async (sql: string, params: unknown[] = []) => (await client.query(numbered(sql), params)).rows as Record<string, unknown>[];
  return {
    all,
    async run(sql, params = []) {
      await client.query(numbered(sql), params);
    },
    async dump() {
      const tables = await all(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`);
      return JSON.stringify(await Promise.all(tables.map((t) => all(`SELECT * FROM "${String(t.table_name)}"`))));
    },
    async close() {
      await client.end();
    },
  };
}
