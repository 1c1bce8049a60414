import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** A MongoDB wire-protocol server for the Mongoose part of the story. */
export interface MongoServer {
  readonly uri: string;
  readonly description: string;
  stop(): Promise<void>;
}

/** How to get a server when none could be started. */
export const MONGO_HINT = 'run `bash scripts/setup` (it builds FerretDB 1.24 with Go), or set MONGODB_URI to a MongoDB server';

function ferretBinary(): string | undefined {
  const candidates = [process.env.KEYSTRATA_FERRETDB_BIN, join(homedir(), 'go', 'bin', 'ferretdb')];
  try {
    candidates.push(join(execFileSync('go', ['env', 'GOPATH'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(), 'bin', 'ferretdb'));
  } catch {
    /* no Go */
  }
  return candidates.find((c): c is string => c !== undefined && existsSync(c));
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * MONGODB_URI when set; otherwise FerretDB (SQLite backend) on a free loopback port with its state
 * in `dir`. Returns undefined when neither is available.
 */
export async function startMongo(dir: string): Promise<MongoServer | undefined> {
  if (process.env.MONGODB_URI) return { uri: process.env.MONGODB_URI, description: 'MongoDB at MONGODB_URI', stop: async () => {} };
  const bin = ferretBinary();
  if (bin === undefined) return undefined;
  const data = join(dir, 'ferretdb');
  mkdirSync(data, { recursive: true });
  const port = await freePort();
  const child: ChildProcess = spawn(
    bin,
    ['--handler=sqlite', `--sqlite-url=file:${data}/`, `--state-dir=${data}`, `--listen-addr=127.0.0.1:${port}`, '--debug-addr=-', '--telemetry=disable', '--log-level=error'],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    uri: `mongodb://127.0.0.1:${port}/`,
    description: `FerretDB 1.24 (SQLite backend) on 127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
    },
  };
}
