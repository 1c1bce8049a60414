import { execFileSync, spawn } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePort } from './postgres.js';

/** A private FerretDB (MongoDB wire protocol, SQLite backend) for one test run. */
export interface FerretDbServer {
  /** `mongodb://127.0.0.1:<port>/`; pick a database name per test. */
  readonly uri: string;
  stop(): Promise<void>;
}

const SETUP_HINT = 'run `bash scripts/setup` (it builds FerretDB v1.24.2 with Go) or set KEYSTRATA_FERRETDB_BIN';

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function goBin(): string | undefined {
  try {
    return join(execFileSync('go', ['env', 'GOPATH'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(), 'bin', 'ferretdb');
  } catch {
    return undefined;
  }
}

/**
 * Finds the FerretDB binary: `KEYSTRATA_FERRETDB_BIN`, `$(go env GOPATH)/bin`, `~/go/bin`, then PATH.
 * A binary made by a bare `go install` panics at start (no version.txt); it is reported, not used.
 *
 * @example
 * ```ts
 * const bin = findFerretDb(); // '/root/go/bin/ferretdb'
 * ```
 */
export function findFerretDb(): string {
  const override = process.env.KEYSTRATA_FERRETDB_BIN;
  const path = (process.env.PATH ?? '')
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, 'ferretdb'));
  const candidates = override ? [override] : [goBin(), join(homedir(), 'go', 'bin', 'ferretdb'), ...path];
  const found = candidates.find((c): c is string => c !== undefined && executable(c));
  if (found === undefined) throw new Error(`FerretDB is not installed: ${SETUP_HINT}.`);
  try {
    execFileSync(found, ['--version'], { stdio: 'pipe' });
  } catch {
    throw new Error(`${found} does not start (a bare \`go install\` build lacks build/version/version.txt): ${SETUP_HINT}.`);
  }
  return found;
}

/** One OP_MSG `{ ping: 1, $db: 'admin' }`; resolves when the server answers. */
function ping(port: number): Promise<void> {
  const db = Buffer.from('admin\0');
  const body = Buffer.concat([
    Buffer.from([0x10]),
    Buffer.from('ping\0'),
    Buffer.from([1, 0, 0, 0]),
    Buffer.from([0x02]),
    Buffer.from('$db\0'),
    Buffer.from([db.length, 0, 0, 0]),
    db,
    Buffer.from([0]),
  ]);
  const doc = Buffer.concat([Buffer.alloc(4), body]);
  doc.writeInt32LE(doc.length, 0);
  const header = Buffer.alloc(21);
  header.writeInt32LE(21 + doc.length, 0);
  header.writeInt32LE(1, 4);
  header.writeInt32LE(2013, 12); // OP_MSG; flags 0, section kind 0
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => socket.write(Buffer.concat([header, doc])));
    socket.setTimeout(1000, () => socket.destroy(new Error('ping timed out')));
    socket.once('data', (reply) => {
      socket.destroy();
      if (reply.length >= 16 && reply.readInt32LE(12) === 2013) resolve();
      else reject(new Error('unexpected reply to ping'));
    });
    socket.once('error', reject);
  });
}

/**
 * Starts FerretDB on a free loopback port with the SQLite backend in a temporary directory,
 * telemetry off and its debug HTTP listener disabled, and waits until it answers a ping.
 * `MONGODB_URI` is not consulted here (see the global setup).
 *
 * @example
 * ```ts
 * const server = await startFerretDb(); … await server.stop();
 * ```
 */
export async function startFerretDb(): Promise<FerretDbServer> {
  const bin = findFerretDb();
  const dir = mkdtempSync(join(tmpdir(), 'keystrata-ferretdb-'));
  mkdirSync(join(dir, 'data'));
  const port = await freePort();
  const child = spawn(
    bin,
    ['--handler=sqlite', `--sqlite-url=file:${join(dir, 'data')}/`, `--state-dir=${dir}`, `--listen-addr=127.0.0.1:${port}`, '--debug-addr=-', '--telemetry=disable', '--log-level=error'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
  for (let attempt = 0; ; attempt++) {
    try {
      await ping(port);
      break;
    } catch (error) {
      if (attempt > 100 || child.exitCode !== null) {
        child.kill('SIGKILL');
        throw new Error(`FerretDB did not start on port ${port}: ${String(error)}\n${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    uri: `mongodb://127.0.0.1:${port}/`,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
