import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRestartablePostgres, type RestartablePostgres } from '@keystrata/testing';

const childFile = fileURLToPath(new URL('./fixtures/idle-postgres-child.mjs', import.meta.url));

/** The idle application as a child process: a crash shows as its exit, not as vitest dying. */
class IdleApp {
  readonly child: ChildProcess;
  exited: { code: number | null; signal: string | null } | undefined;
  stderr = '';
  readonly #replies: Array<(reply: { ok: boolean; code?: string }) => void> = [];

  constructor(url: string) {
    this.child = fork(childFile, [], { env: { ...process.env, IDLE_PG_URL: url }, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.child.on('exit', (code, signal) => (this.exited = { code, signal }));
    this.child.on('message', (message: { ready?: boolean; ok?: boolean; code?: string }) => {
      if (message.ready !== true) this.#replies.shift()?.(message as { ok: boolean; code?: string });
    });
  }

  ready(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.child.once('message', () => resolve());
      this.child.once('exit', () => reject(new Error(`idle app exited: ${this.stderr}`)));
    });
  }

  query(): Promise<{ ok: boolean; code?: string }> {
    if (this.exited !== undefined) return Promise.resolve({ ok: false, code: `crashed ${JSON.stringify(this.exited)}: ${this.stderr.slice(-500)}` });
    return new Promise((resolve) => {
      this.#replies.push(resolve);
      this.child.send('query');
    });
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('an idle process survives PostgreSQL going away (issue 11 §3b)', () => {
  let server: RestartablePostgres;
  let app: IdleApp | undefined;
  beforeAll(async () => {
    server = await startRestartablePostgres();
  }, 60_000);
  afterAll(async () => {
    if (app !== undefined && app.exited === undefined) app.child.kill('SIGKILL');
    await server.destroy();
  });

  it.each(['immediate', 'fast'] as const)(
    'issue 11 §3b: pg_ctl stop -m %s: the idle app does not crash, gets KEYSTORE_UNAVAILABLE while the server is down, and works again after a restart',
    async (mode) => {
      app = new IdleApp(server.url);
      try {
        await app.ready();
        expect(await app.query()).toEqual({ ok: true });
        server.stopServer(mode);
        await pause(500); // idle while the server is gone: the pool's idle connections report their errors now
        expect(app.exited).toBeUndefined();
        expect(await app.query()).toEqual({ ok: false, code: 'KEYSTORE_UNAVAILABLE' });
        expect(await app.query()).toEqual({ ok: false, code: 'KEYSTORE_UNAVAILABLE' });
        await server.startServer();
        const started = Date.now();
        let reply = await app.query();
        for (let attempt = 0; !reply.ok && attempt < 100; attempt++) {
          await pause(100);
          reply = await app.query();
        }
        expect(reply).toEqual({ ok: true });
        console.log(`pg_ctl stop -m ${mode}: key store usable again ${Date.now() - started} ms after the server accepted connections`);
        expect(app.exited).toBeUndefined();
      } finally {
        if (app.exited === undefined) app.child.kill('SIGKILL');
      }
    },
    30_000,
  );
});
