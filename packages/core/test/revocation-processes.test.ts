import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { envelopeDekId } from '../src/adapter.js';
import { KeyHierarchy } from '../src/index.js';
import { killReaders, startReader, type Reader } from './processes/revocation-readers.js';
import { postgresStack, sqliteStack } from './stacks.js';

// Issue 15 §1: a revocation made in one process reaches other processes (real child processes with
// warm caches that would otherwise keep keys for an hour), on SQLite (the change-log check every
// cache.revocationCheckMs) and PostgreSQL (LISTEN/NOTIFY, and the re-check after a lost connection).

const HOUR = 3_600_000;
const opened: Array<{ close(): Promise<void> }> = [];

afterEach(async () => {
  killReaders();
  for (const thing of opened.splice(0).reverse()) await thing.close();
});

const context = (segment: string) => ({ model: 'Patient', field: 'ssn', recordId: 'r1', segment });

async function setup(kind: 'sqlite' | 'postgres', cache: object) {
  const stack = kind === 'sqlite' ? await sqliteStack() : await postgresStack();
  opened.push(stack);
  const cmkLabelPrefix = `revoke-${Math.random().toString(36).slice(2)}`;
  const h = await KeyHierarchy.create({ rootKey: stack.rootKey, keyStore: stack.keyStore, cmkLabelPrefix });
  await h.provision();
  const envelopes: Record<string, string> = {};
  for (const segment of ['a', 'b', 'c']) envelopes[segment] = await h.encryptValue(`canary-${segment}`, context(segment));
  const database = 'file' in stack ? stack.file : stack.url;
  const reader = await startReader({ kind, database, cmkLabelPrefix, cache });
  // Warm: every key the reader needs is in its cache.
  for (const segment of ['a', 'b', 'c']) expect(await reader.send(`decrypt ${segment} ${envelopes[segment]}`)).toEqual({ value: `canary-${segment}` });
  return { h, reader, envelopes, database };
}

/** The reader decrypts in a loop until it is refused (bounded: 8 s); its answer's code. */
async function refusal(reader: Reader, segment: string, envelope: string): Promise<unknown> {
  return (await reader.send(`spin ${segment} ${envelope} 8000`, 20_000)).code;
}

describe.each(['sqlite', 'postgres'] as const)('issue 15 §1 revocation reaches another process (%s, SoftHSM2)', (kind) => {
  it(`issue 15 §1 (${kind}): a process with a warm cache (maxAgeMs 1 h, default revocationCheckMs) refuses a DEK disabled, a DEK destroyed and a KEK disabled by another process`, async () => {
    const { h, reader, envelopes } = await setup(kind, { maxAgeMs: HOUR });
    await h.disable({ kind: 'dek', id: envelopeDekId(envelopes.a!) });
    expect(await refusal(reader, 'a', envelopes.a!)).toBe('KEY_DISABLED');
    await h.destroy({ kind: 'dek', id: envelopeDekId(envelopes.c!) });
    expect(await refusal(reader, 'c', envelopes.c!)).toBe('KEY_DESTROYED');
    expect(await reader.send(`decrypt b ${envelopes.b}`)).toEqual({ value: 'canary-b' }); // the others still work
    // The destroy's shred epoch moved the keyring to a new KEK version: disable the one b's DEK is under now.
    const kekVersion = (await h.status()).keyrings[0]!.keks.find((k) => k.state === 'primary')!.version;
    await h.disable({ kind: 'kek', version: kekVersion });
    expect(await refusal(reader, 'b', envelopes.b!)).toBe('KEY_DISABLED');
  }, 60_000);
});

describe('issue 15 §1 PostgreSQL LISTEN/NOTIFY (SoftHSM2, real child processes)', () => {
  /** Waits (bounded) until the reader's revocation mode is `mode` (`push`: notifications live and caught up). */
  async function untilMode(reader: Reader, mode: 'push' | 'poll'): Promise<unknown> {
    for (let n = 0; n < 200; n++) {
      const { revocations } = (await reader.send('stats')) as { revocations?: { mode: string } };
      if (revocations?.mode === mode) return mode;
      await sleep(50);
    }
    return `never ${mode}`;
  }

  const killed = (result: { rows: Array<{ done: boolean }> }): boolean => result.rows.length >= 1 && result.rows.every((row) => row.done);

  it('issue 15 §1: with revocationCheckMs of an hour, a notification alone makes the other process refuse a disabled DEK, with no change-log query while pushed', async () => {
    const { h, reader, envelopes } = await setup('postgres', { maxAgeMs: HOUR, revocationCheckMs: HOUR });
    expect(await untilMode(reader, 'push')).toBe('push');
    const before = (await reader.send('stats')) as { keyStoreQueries: number };
    for (let n = 0; n < 50; n++) expect(await reader.send(`decrypt b ${envelopes.b}`)).toEqual({ value: 'canary-b' });
    expect(((await reader.send('stats')) as { keyStoreQueries: number }).keyStoreQueries).toBe(before.keyStoreQueries);
    await h.disable({ kind: 'dek', id: envelopeDekId(envelopes.a!) });
    expect(await refusal(reader, 'a', envelopes.a!)).toBe('KEY_DISABLED');
  }, 60_000);

  it('issue 15 §1: a revocation whose notification was lost, then the notification connection killed (pg_terminate_backend): the process re-checks the change log before serving from cache again', async () => {
    const { reader, envelopes, database } = await setup('postgres', { maxAgeMs: HOUR, revocationCheckMs: HOUR });
    expect(await untilMode(reader, 'push')).toBe('push');
    const admin = new pg.Client({ connectionString: database });
    await admin.connect();
    opened.push({ close: () => admin.end() });
    // The attacker's (or the network's) version of a revocation: committed with its change-log row, but no NOTIFY arrives.
    const id = envelopeDekId(envelopes.a!);
    await admin.query('BEGIN');
    await admin.query(`UPDATE keystrata_dek SET state = 'disabled' WHERE id = $1`, [id]);
    await admin.query(
      `INSERT INTO keystrata_key_change (seq, level, keyring, key_id, segment, state, at)
       SELECT (SELECT COALESCE(MAX(seq), 0) + 1 FROM keystrata_key_change), 'dek', keyring, id, segment, 'disabled', 'now' FROM keystrata_dek WHERE id = $1`,
      [id],
    );
    await admin.query('COMMIT');
    // The premise: pushed, with an hour between checks, the reader has not heard of it.
    expect(await reader.send(`decrypt a ${envelopes.a}`)).toEqual({ value: 'canary-a' });
    // No new connection to the database from now on (superusers included), so the listener cannot
    // reconnect and catch up by itself: only the re-check before serving can stop a stale decrypt.
    const name = new URL(database).pathname.slice(1);
    const server = new pg.Client({ connectionString: inject('postgresUrl') });
    await server.connect();
    opened.push({ close: () => server.end() });
    await server.query(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS false`);
    try {
      // Both processes' listeners (this one's too): every notification connection on the database goes.
      expect(killed(await server.query(`SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE application_name = 'keystrata-listen' AND datname = $1`, [name]))).toBe(true);
      expect(await untilMode(reader, 'poll')).toBe('poll');
      // The first decrypt after the loss re-checks the change log (through the pool's open connection), so it is refused.
      expect(await reader.send(`decrypt a ${envelopes.a}`)).toEqual({ code: 'KEY_DISABLED' });
    } finally {
      await server.query(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS true`);
    }
    // It reconnects by itself and goes back to notifications.
    expect(await untilMode(reader, 'push')).toBe('push');
    expect(await reader.send(`decrypt b ${envelopes.b}`)).toEqual({ value: 'canary-b' });
  }, 60_000);

  it('issue 15 §1: the notification connection closes with the hierarchy, and never keeps a process alive that forgot to close it', async () => {
    const stack = await postgresStack();
    const name = new URL(stack.url).pathname.slice(1);
    const server = new pg.Client({ connectionString: inject('postgresUrl') });
    await server.connect();
    opened.push({ close: () => server.end() });
    const listeners = async () => Number((await server.query(`SELECT COUNT(*) AS n FROM pg_stat_activity WHERE application_name = 'keystrata-listen' AND datname = $1`, [name])).rows[0].n);
    const h = await KeyHierarchy.create({ rootKey: stack.rootKey, keyStore: stack.keyStore, cmkLabelPrefix: `revoke-${Math.random().toString(36).slice(2)}` });
    for (let n = 0; n < 100 && h.stats().revocations?.mode !== 'push'; n++) await sleep(50);
    expect(h.stats().revocations?.mode).toBe('push');
    expect(await listeners()).toBe(1);
    await h.close();
    let left = await listeners();
    for (let n = 0; n < 100 && left > 0; n++, left = await listeners()) await sleep(50);
    expect(left).toBe(0);
    // A process that opens a hierarchy, lets it reach `push`, and ends its script without closing anything exits by itself.
    const script = `
      import { KeyHierarchy, Pkcs11RootKey, SqlKeyStore, createPostgresDriver } from ${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)};
      const token = JSON.parse(process.env.KS_TOKEN);
      const rootKey = await Pkcs11RootKey.open({ module: token.module, tokenLabel: token.tokenLabel, pin: () => token.pin, moduleEnvironment: token.moduleEnvironment });
      const driver = await createPostgresDriver({ database: process.env.KS_URL });
      const h = await KeyHierarchy.create({ rootKey, keyStore: new SqlKeyStore(driver), cache: { revocationCheckMs: 3600000 } });
      while (h.stats().revocations.mode !== 'push') await new Promise((resolve) => setTimeout(resolve, 20));
      process.stdout.write('push\\n');
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, KS_TOKEN: JSON.stringify(inject('softhsm')), KS_URL: stack.url },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    // Bounded: the pg pool's idle clients go after 10 s; a ref'd listener would keep it running for ever.
    const exit = await Promise.race([new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code))), sleep(30_000).then(() => 'still running')]);
    if (exit === 'still running') child.kill('SIGKILL');
    expect(out.trim()).toBe('push');
    expect(exit).toBe(0);
  }, 60_000);
});
