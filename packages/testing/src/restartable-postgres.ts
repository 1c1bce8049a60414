import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { freePort, initPostgresCluster } from './postgres.js';

/** A private PostgreSQL server a test can stop (as an operator or a crash would) and start again. */
export interface RestartablePostgres {
  /** Connection string of the `postgres` database as superuser `keystrata`; the same after restarts. */
  readonly url: string;
  /** `pg_ctl stop -m <mode>`: `immediate` is a crash, `fast` a clean shutdown that disconnects clients. */
  stopServer(mode: 'immediate' | 'fast'): void;
  /** Starts the server again on the same port and data directory and waits until it accepts connections. */
  startServer(): Promise<void>;
  /** Stops the server (if running) and deletes its files. */
  destroy(): Promise<void>;
}

/**
 * Starts a throw-away PostgreSQL cluster that the test controls (never the run's shared server):
 * initdb in a temp directory, loopback only, a free port kept across restarts.
 *
 * @example
 * ```ts
 * const pg = await startRestartablePostgres();
 * pg.stopServer('immediate'); … await pg.startServer(); … await pg.destroy();
 * ```
 */
export async function startRestartablePostgres(): Promise<RestartablePostgres> {
  const { dir, data, run, serverArgs } = initPostgresCluster('keystrata-pg-restart-');
  const port = await freePort();
  const url = `postgres://keystrata@127.0.0.1:${port}/postgres`;
  let child: ChildProcess | undefined;
  const { default: pg } = await import('pg');

  async function startServer(): Promise<void> {
    const server = spawn(...run('postgres', serverArgs(port)), { stdio: 'ignore' });
    child = server;
    for (let attempt = 0; ; attempt++) {
      const client = new pg.Client({ connectionString: url });
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.end();
        return;
      } catch (error) {
        await client.end().catch(() => undefined);
        if (attempt > 150 || server.exitCode !== null) throw new Error(`PostgreSQL did not start on port ${port}: ${String(error)}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  function stopServer(mode: 'immediate' | 'fast'): void {
    execFileSync(...run('pg_ctl', ['stop', '-D', data, '-m', mode, '-w']), { stdio: 'pipe' });
  }

  await startServer();
  return {
    url,
    stopServer,
    startServer,
    async destroy() {
      try {
        if (child !== undefined && child.exitCode === null) stopServer('immediate');
      } catch {
        child?.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
