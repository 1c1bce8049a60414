import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A private PostgreSQL server for one test run. */
export interface PostgresServer {
  /** Connection string of the `postgres` database as superuser `keystrata`. */
  readonly url: string;
  stop(): Promise<void>;
}

/** Where the PostgreSQL binaries are (`KEYSTRATA_PG_BIN`, else the newest /usr/lib/postgresql/<n>/bin). */
function pgBinDir(): string {
  const override = process.env.KEYSTRATA_PG_BIN;
  if (override) return override;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const version of versions) if (existsSync(join(root, version, 'bin', 'initdb'))) return join(root, version, 'bin');
  throw new Error('PostgreSQL is not installed: run `bash scripts/setup` (Debian: apt-get install postgresql).');
}

/** A fresh cluster's files, and how to run its binaries (as the `postgres` system user when root). */
export interface PostgresCluster {
  readonly dir: string;
  readonly data: string;
  /** The command line for a PostgreSQL binary, for execFileSync/spawn. */
  run(command: string, args: string[]): [string, string[]];
  /** The `postgres` server arguments for `port`: loopback only, socket in `dir`, no fsync. */
  serverArgs(port: number): string[];
}

/**
 * Runs initdb for a throw-away cluster in a temp directory (superuser `keystrata`, trust auth).
 *
 * @example
 * ```ts
 * const cluster = initPostgresCluster('keystrata-pg-');
 * spawn(...cluster.run('postgres', cluster.serverArgs(port)));
 * ```
 */
export function initPostgresCluster(prefix: string): PostgresCluster {
  const bin = pgBinDir();
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o777);
  const data = join(dir, 'data');
  const asPostgres = process.getuid?.() === 0;
  const run = (command: string, args: string[]): [string, string[]] => (asPostgres ? ['runuser', ['-u', 'postgres', '--', join(bin, command), ...args]] : [join(bin, command), args]);
  execFileSync(...run('initdb', ['-D', data, '-U', 'keystrata', '--auth=trust', '-E', 'UTF8', '--no-sync']), { stdio: 'pipe' });
  const serverArgs = (port: number): string[] => ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'full_page_writes=off'];
  return { dir, data, run, serverArgs };
}

/** A free loopback TCP port. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * Starts a throw-away PostgreSQL cluster (initdb in a temp directory, loopback only, a free port).
 * As root it runs as the `postgres` system user. `KEYSTRATA_TEST_PG_URL` skips this and uses that server.
 *
 * @example
 * ```ts
 * const pg = await startPostgres(); … await pg.stop();
 * ```
 */
export async function startPostgres(): Promise<PostgresServer> {
  const external = process.env.KEYSTRATA_TEST_PG_URL;
  if (external) return { url: external, stop: async () => {} };
  const { dir, data, run, serverArgs } = initPostgresCluster('keystrata-pg-');
  const port = await freePort();
  const child: ChildProcess = spawn(...run('postgres', serverArgs(port)), { stdio: 'ignore' });
  const url = `postgres://keystrata@127.0.0.1:${port}/postgres`;
  const { default: pg } = await import('pg');
  for (let attempt = 0; ; attempt++) {
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.end();
      break;
    } catch (error) {
      await client.end().catch(() => undefined);
      if (attempt > 100 || child.exitCode !== null) throw new Error(`PostgreSQL did not start on port ${port}: ${String(error)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    async stop() {
      try {
        execFileSync(...run('pg_ctl', ['stop', '-D', data, '-m', 'fast', '-w']), { stdio: 'pipe' });
      } catch {
        child.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Creates a fresh database on the server and returns its URL.
 *
 * @example
 * ```ts
 * const url = await createDatabase(pg.url, 'core_test');
 * ```
 */
export async function createDatabase(serverUrl: string, prefix: string): Promise<string> {
  const { default: pg } = await import('pg');
  const name = `${prefix}_${Math.random().toString(36).slice(2, 10)}`;
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
