import Database from 'better-sqlite3';

/** Reads the SQLite file the way an attacker with a copy of it would: no Keystrata involved. */
export function rawRows(file: string, sql: string, params: unknown[] = []): Array<Record<string, unknown>> {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...params) as Array<Record<string, unknown>>;
  } finally {
    db.close();
  }
}

/** Runs one statement directly on the file (the tamper steps). */
export function rawRun(file: string, sql: string, params: unknown[] = []): number {
  const db = new Database(file, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    return db.prepare(sql).run(...params).changes;
  } finally {
    db.close();
  }
}

/** Applies the committed migrations to the SQLite file. */
export function migrate(file: string, sql: string): void {
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.exec(sql);
  } finally {
    db.close();
  }
}
