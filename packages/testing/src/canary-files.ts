import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';

/**
 * A canary unique to one sweep (so other tests' values in a shared server never match), in upper
 * case, e.g. `CANARYK3J9Q2`. Put it in every encrypted value a sweep writes.
 *
 * @example
 * ```ts
 * const tag = canaryTag(); await db.patient.create({ data: { ssn: `${tag}-create` } });
 * ```
 */
export function canaryTag(): string {
  return `CANARY${Math.random().toString(36).slice(2, 10).toUpperCase()}`;
}

function listFiles(path: string): string[] {
  if (!existsSync(path)) return [];
  const stat = statSync(path);
  if (stat.isFile()) return [path];
  if (!stat.isDirectory()) return [];
  return readdirSync(path).flatMap((name) => listFiles(join(path, name)));
}

/**
 * The files (under the given files or directories) whose raw bytes contain `needle`, searched as
 * UTF-8 and case-insensitively (ASCII). Missing paths are skipped.
 *
 * @example
 * ```ts
 * expect(filesContaining(sqliteFiles(file), tag)).toEqual([]);
 * ```
 */
export function filesContaining(paths: readonly string[], needle: string): string[] {
  const variants = [needle, needle.toLowerCase(), needle.toUpperCase()].map((v) => Buffer.from(v, 'utf8'));
  return paths.flatMap(listFiles).filter((file) => {
    const bytes = readFileSync(file);
    return variants.some((v) => bytes.includes(v));
  });
}

/**
 * A SQLite database's files: the database, its write-ahead log, rollback journal and shared memory.
 *
 * @example
 * ```ts
 * sqliteFiles('/tmp/x/data.db'); // ['/tmp/x/data.db', '/tmp/x/data.db-wal', …] (those that exist)
 * ```
 */
export function sqliteFiles(file: string): string[] {
  return [file, `${file}-wal`, `${file}-journal`, `${file}-shm`].filter((f) => existsSync(f));
}

/**
 * The files of a PostgreSQL database a sweep must search, after a CHECKPOINT (so the heap pages
 * are on disk): the heap, TOAST and index files of the named tables and the whole WAL directory.
 * Needs a superuser connection (the test server's `keystrata` user is one).
 *
 * @example
 * ```ts
 * expect(filesContaining(await postgresFiles(url, ['Patient']), tag)).toEqual([]);
 * ```
 */
export async function postgresFiles(url: string, tables: readonly string[]): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('CHECKPOINT');
    const dataDir = String((await client.query('SHOW data_directory')).rows[0].data_directory);
    const files: string[] = [join(dataDir, 'pg_wal')];
    for (const table of tables) {
      const { rows } = await client.query(
        `SELECT pg_relation_filepath(c.oid) AS heap, pg_relation_filepath(c.reltoastrelid) AS toast
           FROM pg_class c WHERE c.relname = $1 AND c.relkind = 'r'`,
        [table],
      );
      if (rows.length === 0) throw new Error(`postgresFiles: no table ${table}`);
      const indexes = await client.query(`SELECT pg_relation_filepath(i.indexrelid) AS path FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid WHERE c.relname = $1`, [table]);
      for (const path of [rows[0].heap, rows[0].toast, ...indexes.rows.map((r) => r.path)]) {
        if (typeof path === 'string') files.push(...listFiles(join(dataDir, path)), ...listFiles(join(dataDir, `${path}.1`)));
      }
    }
    return files;
  } finally {
    await client.end();
  }
}

/**
 * The SQLite data directory of the FerretDB server listening on `uri`, found through its command
 * line (`--sqlite-url=file:<dir>/`, as `startFerretDb` starts it); undefined for any other server
 * (e.g. `MONGODB_URI`), whose files a test cannot read.
 *
 * @example
 * ```ts
 * const dir = ferretDbDataDir(inject('mongodbUri')); // '/tmp/keystrata-ferretdb-…/data'
 * ```
 */
export function ferretDbDataDir(uri: string): string | undefined {
  const port = /:(\d+)\/?/.exec(uri.replace(/^mongodb:\/\//, ''))?.[1];
  if (port === undefined || !existsSync('/proc')) return undefined;
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    let args: string[];
    try {
      args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (!args.includes(`--listen-addr=127.0.0.1:${port}`)) continue;
    const url = args.find((a) => a.startsWith('--sqlite-url=file:'));
    if (url !== undefined) return url.slice('--sqlite-url=file:'.length).replace(/\/$/, '');
  }
  return undefined;
}
